//! Reads parts on every core: one worker per core pulls the next part from a shared counter and
//! folds it into its own state; the caller merges the states. Parts are independent, so nothing is
//! shared while scanning.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use waggle_store::Part;

use crate::Result;

/// Folds every part into per-worker states, largest parts first so the last ones to finish are small.
pub(crate) fn scan_parts<S: Send>(
    parts: &[Arc<dyn Part>],
    init: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, &dyn Part) -> Result<()> + Sync,
) -> Result<Vec<S>> {
    let mut order: Vec<&dyn Part> = parts.iter().map(|part| &**part).collect();
    order.sort_by_key(|part| std::cmp::Reverse(part.info().rows));
    let workers = std::thread::available_parallelism().map_or(1, |cores| cores.get()).min(order.len()).max(1);
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let run = || -> Result<S> {
        let mut state = init();
        while !failed.load(Ordering::Relaxed) {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(part) = order.get(index) else { break };
            if let Err(err) = work(&mut state, *part) {
                failed.store(true, Ordering::Relaxed);
                return Err(err);
            }
        }
        Ok(state)
    };
    if workers == 1 {
        return Ok(vec![run()?]);
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = (1..workers).map(|_| scope.spawn(run)).collect();
        let mut states = vec![run()?];
        for handle in handles {
            states.push(handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))?);
        }
        Ok(states)
    })
}
