//! The results of the lanes, put back in migration order as they arrive.

use std::time::Duration;

use crate::migrations::source::MigrationSet;

use super::report::MigrationCheck;

/// Puts the lanes' results in migration order, hands each to the caller as soon as all before
/// it are known, and makes every result after one that broke the chain "not checked".
pub(super) struct Emitter<'a> {
    set: &'a MigrationSet,
    pending: Vec<Option<(MigrationCheck, bool)>>,
    next: usize,
    broken: Option<usize>,
    /// Set when a migration before the selection failed: the report is final.
    closed: bool,
    results: Vec<MigrationCheck>,
    on_result: &'a mut (dyn FnMut(&MigrationCheck) + Send),
}

impl<'a> Emitter<'a> {
    /// An emitter whose first result is that of migration `first`.
    pub(super) fn new(
        set: &'a MigrationSet,
        first: usize,
        on_result: &'a mut (dyn FnMut(&MigrationCheck) + Send),
    ) -> Emitter<'a> {
        Emitter {
            set,
            pending: vec![None; set.migrations.len()],
            next: first,
            broken: None,
            closed: false,
            results: Vec::new(),
            on_result,
        }
    }

    /// The result of migration `index`, which broke the chain when `breaks_chain`.
    pub(super) fn emit(&mut self, index: usize, check: MigrationCheck, breaks_chain: bool) {
        if self.closed {
            return;
        }
        self.pending[index] = Some((check, breaks_chain));
        while let Some((check, breaks_chain)) =
            self.pending.get_mut(self.next).and_then(Option::take)
        {
            let migrations = &self.set.migrations;
            let check = match self.broken {
                Some(broken) => {
                    MigrationCheck::not_checked(&migrations[self.next], &migrations[broken])
                }
                None => {
                    if breaks_chain {
                        self.broken = Some(self.next);
                    }
                    check
                }
            };
            self.deliver(check);
            self.next += 1;
        }
    }

    /// The up of migration `index`, before the selection, failed: it is reported with every
    /// migration after it as not checked, and nothing else.
    pub(super) fn failed_before_selection(&mut self, index: usize, message: String) {
        if self.closed {
            return;
        }
        self.closed = true;
        self.results.clear();
        let migrations = &self.set.migrations;
        let broken = &migrations[index];
        let mut checks = vec![MigrationCheck::failed_up(broken, message, Duration::ZERO)];
        checks.extend(
            migrations[index + 1..]
                .iter()
                .map(|m| MigrationCheck::not_checked(m, broken)),
        );
        for check in checks {
            self.deliver(check);
        }
    }

    fn deliver(&mut self, check: MigrationCheck) {
        (self.on_result)(&check);
        self.results.push(check);
    }

    /// Every result handed out, in migration order.
    pub(super) fn finish(self) -> Vec<MigrationCheck> {
        self.results
    }
}
