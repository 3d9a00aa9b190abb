//! How many requests one key (or, without a key, one client) may have in flight at once: a
//! client holding many slow requests open cannot take every worker's connections, whatever
//! its request rate. Counted in this process's memory; an entry lives only while its client
//! has requests in flight, so the table holds at most as many entries as there are requests.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The in-flight counts of every client.
#[derive(Debug)]
pub struct InFlight {
    limit: u32,
    counts: Mutex<HashMap<String, u32>>,
}

/// One request's place; leaving it (on drop) frees it.
#[derive(Debug)]
pub struct Slot {
    table: Arc<InFlight>,
    client: String,
}

impl InFlight {
    /// At most `limit` requests in flight per client (0: no limit).
    pub fn new(limit: u32) -> Self {
        Self {
            limit,
            counts: Mutex::new(HashMap::new()),
        }
    }

    /// A place for one more request of `client`, or `None` when it has `limit` in flight.
    pub fn enter(self: &Arc<Self>, client: &str) -> Option<Slot> {
        if self.limit == 0 {
            return Some(Slot {
                table: self.clone(),
                client: String::new(),
            });
        }
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let count = counts.entry(client.to_owned()).or_insert(0);
        if *count >= self.limit {
            return None;
        }
        *count += 1;
        Some(Slot {
            table: self.clone(),
            client: client.to_owned(),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if self.table.limit == 0 {
            return;
        }
        let mut counts = self.table.counts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = counts.get_mut(&self.client) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.client);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_gets_its_limit_and_a_slot_back_when_a_request_ends() {
        let table = Arc::new(InFlight::new(2));
        let first = table.enter("key:a").unwrap();
        let _second = table.enter("key:a").unwrap();
        assert!(table.enter("key:a").is_none());
        assert!(table.enter("key:b").is_some(), "clients are counted apart");
        drop(first);
        assert!(table.enter("key:a").is_some());
    }

    #[test]
    fn finished_clients_leave_no_entry() {
        let table = Arc::new(InFlight::new(4));
        for n in 0..1000 {
            drop(table.enter(&format!("ip:{n}")));
        }
        assert!(table.counts.lock().unwrap().is_empty());
    }
}
