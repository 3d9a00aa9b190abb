//! Cursor pagination shared by every list: `?limit=&cursor=` in, `{items, next_cursor}` out.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::AppError;
pub use crate::models::PageRequest;

const DEFAULT_LIMIT: u16 = 20;
const MAX_LIMIT: u16 = 100;

/// Page parameters of a list request.
#[derive(Debug, Deserialize, IntoParams, garde::Validate)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1 to 100.
    #[param(minimum = 1, maximum = 100, default = 20)]
    #[garde(range(min = 1, max = MAX_LIMIT))]
    pub limit: Option<u16>,
    /// Opaque cursor from the previous page's `next_cursor`.
    #[param(pattern = r"^[0-9a-f]{32}$")]
    #[garde(skip)]
    pub cursor: Option<String>,
}

impl PageQuery {
    /// Decodes the cursor; rejects one this server did not issue.
    pub fn request(&self) -> Result<PageRequest, AppError> {
        let after = match &self.cursor {
            None => None,
            Some(cursor) => Some(
                Uuid::try_parse(cursor)
                    .map_err(|_| AppError::field("cursor", "is not a cursor issued by this API"))?,
            ),
        };
        Ok(PageRequest {
            after,
            limit: i64::from(self.limit.unwrap_or(DEFAULT_LIMIT)),
        })
    }
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    /// The items of this page, oldest first.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows fetched in id order; `id` reads a row's key.
    pub fn from_rows<R>(
        mut rows: Vec<R>,
        request: PageRequest,
        id: impl Fn(&R) -> Uuid,
        into: impl Fn(R) -> T,
    ) -> Self {
        let has_more = rows.len() as i64 > request.limit;
        rows.truncate(request.limit as usize);
        let next_cursor = if has_more {
            rows.last().map(|row| id(row).simple().to_string())
        } else {
            None
        };
        Page {
            items: rows.into_iter().map(into).collect(),
            next_cursor,
        }
    }
}
