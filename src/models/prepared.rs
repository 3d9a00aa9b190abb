//! Hand-written SQL that each connection prepares once and then reuses.
//!
//! `diesel::sql_query` marks its statement unsafe to cache, so diesel-async prepares it afresh
//! on every call: one round trip to parse and describe it, another to run it, and PostgreSQL
//! plans it each time. A [`Prepared`] statement is cached by its text, as diesel's own DSL
//! queries are: one round trip, parsed once per connection, and PostgreSQL may settle on a
//! generic plan. Write its parameters `$1`, `$2`, … as for `sql_query`; the text must hold no
//! other `$` (no dollar quoting). Text built at run time does not belong here: each variant
//! would be another cached statement.

use std::marker::PhantomData;

use diesel::QueryResult;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{HasSqlType, Untyped};

/// A statement and its parameters, run with diesel-async's `load`, `get_result` or `execute`
/// (rows by `QueryableByName`).
pub struct Prepared<'a> {
    sql: &'static str,
    binds: Vec<Box<dyn Bind + 'a>>,
}

/// The statement `sql`, its parameters still to bind.
pub fn prepared<'a>(sql: &'static str) -> Prepared<'a> {
    Prepared {
        sql,
        binds: Vec::new(),
    }
}

impl<'a> Prepared<'a> {
    /// Binds the next parameter (`$1` first) as SQL type `ST`.
    pub fn bind<ST, V>(mut self, value: V) -> Self
    where
        Pg: HasSqlType<ST>,
        V: ToSql<ST, Pg> + Send + 'a,
        ST: 'a,
    {
        self.binds.push(Box::new(Typed {
            value,
            sql_type: PhantomData::<fn() -> ST>,
        }));
        self
    }
}

trait Bind: Send {
    fn push<'b>(&'b self, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()>;
}

struct Typed<ST, V> {
    value: V,
    sql_type: PhantomData<fn() -> ST>,
}

impl<ST, V> Bind for Typed<ST, V>
where
    Pg: HasSqlType<ST>,
    V: ToSql<ST, Pg> + Send,
{
    fn push<'b>(&'b self, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_bind_param::<ST, V>(&self.value)
    }
}

impl QueryFragment<Pg> for Prepared<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        // Each `$n` is pushed as a bind where it stands (numbered afresh, in order), so a
        // parameter the text names twice is bound twice.
        let mut rest = self.sql;
        while let Some(at) = rest.find('$') {
            out.push_sql(&rest[..at]);
            let after = &rest[at + 1..];
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            let bind = after[..digits]
                .parse::<usize>()
                .ok()
                .and_then(|n| n.checked_sub(1))
                .and_then(|index| self.binds.get(index))
                .ok_or_else(|| {
                    diesel::result::Error::QueryBuilderError(
                        format!("`${}` names no bound parameter", &after[..digits]).into(),
                    )
                })?;
            bind.push(&mut out)?;
            rest = &after[digits..];
        }
        out.push_sql(rest);
        Ok(())
    }
}

impl QueryId for Prepared<'_> {
    type QueryId = ();
    // Not static: the statement cache keys it by its text and parameter types instead.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Prepared<'_> {
    type SqlType = Untyped;
}

#[cfg(test)]
mod tests {
    use diesel::sql_types::{Integer, Text};

    use super::prepared;

    #[test]
    fn parameters_are_bound_where_the_text_names_them() {
        let query = prepared("SELECT $2, $1 || $2")
            .bind::<Integer, _>(7)
            .bind::<Text, _>("a");
        let shown = diesel::debug_query::<diesel::pg::Pg, _>(&query).to_string();
        assert_eq!(shown, r#"SELECT $1, $2 || $3 -- binds: ["a", 7, "a"]"#);
    }

    #[test]
    fn a_parameter_without_a_value_is_an_error() {
        let query = prepared("SELECT $1, $2").bind::<Integer, _>(7);
        let built = diesel::query_builder::QueryFragment::<diesel::pg::Pg>::to_sql(
            &query,
            &mut diesel::pg::PgQueryBuilder::default(),
            &diesel::pg::Pg,
        );
        let error = built.expect_err("$2 has no value").to_string();
        assert!(error.contains("`$2` names no bound parameter"), "{error}");
    }
}
