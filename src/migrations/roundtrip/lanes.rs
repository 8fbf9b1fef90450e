//! How many lanes (scratch databases) a check runs on, and which consecutive share of the
//! migrations each lane checks.

use std::ops::Range;

use crate::migrations::cluster::cluster_wide_statement;
use crate::migrations::error::MigrateError;
use crate::migrations::source::MigrationSet;

use super::{first_checked, Selection};

/// Lanes used when none are asked for: the cores, at most this many.
const MAX_DEFAULT_LANES: usize = 4;
/// Without `--jobs`, each lane checks at least this many migrations: below that, another
/// scratch database and the ups it applies first cost more than the lane saves.
const MIN_DEFAULT_SHARE: usize = 20;

/// How many lanes (scratch databases) a check uses, and why only one when the chain forbids
/// more.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LanePlan {
    /// The number of lanes.
    pub lanes: usize,
    /// Why a single lane although more were possible.
    pub single_because: Option<String>,
}

/// Plans the lanes of a check: `requested` ones (`--jobs`), or by default one per core (at most
/// `MAX_DEFAULT_LANES`) with at least `MIN_DEFAULT_SHARE` migrations each; never more than there
/// are migrations to check, and one alone when a migration changes the cluster (roles,
/// tablespaces, databases: see [`cluster_wide_statement`]), which the scratch databases of one
/// server share.
pub fn plan_lanes(
    set: &MigrationSet,
    selection: &Selection,
    requested: Option<usize>,
    cores: usize,
) -> Result<LanePlan, MigrateError> {
    let count = set.migrations.len() - first_checked(set, selection)?;
    let lanes = match requested {
        Some(n) => n.clamp(1, count.max(1)),
        None => cores
            .min(MAX_DEFAULT_LANES)
            .min(count / MIN_DEFAULT_SHARE)
            .max(1),
    };
    if lanes == 1 {
        return Ok(LanePlan {
            lanes,
            single_because: None,
        });
    }
    let files = set
        .migrations
        .iter()
        .flat_map(|m| std::iter::once(&m.up).chain(m.down.as_ref()));
    for file in files {
        if let Some(statement) = cluster_wide_statement(&file.sql) {
            return Ok(LanePlan {
                lanes: 1,
                single_because: Some(format!(
                    "{} runs {statement}, which changes the whole server",
                    file.path.display()
                )),
            });
        }
    }
    Ok(LanePlan {
        lanes,
        single_because: None,
    })
}

/// What applying one up unchecked costs a later lane, as a share of checking one migration (up,
/// snapshot, down, snapshot, up, snapshot). An up alone costs about a fifth of a check; the rest
/// stands for later checks costing more than early ones (the schema they read is larger).
/// Measured on generated chains of 200 and 400 migrations, two lanes on two cores.
const UP_SHARE_OF_A_CHECK: f64 = 0.22;

/// Splits the migrations `first..len` into `lanes` consecutive, non-empty shares that take
/// about the same time, a lane applying the ups before its share unchecked first: the later a
/// share starts, the fewer migrations it checks.
pub fn partition(first: usize, len: usize, lanes: usize) -> Vec<Range<usize>> {
    let count = len.saturating_sub(first);
    let lanes = lanes.clamp(1, count.max(1));
    if lanes == 1 {
        return std::iter::once(first..len).collect();
    }
    // The ends of the shares if every lane works for `time` (in checks).
    let ends = |time: f64| -> Vec<f64> {
        let mut start = first as f64;
        (0..lanes)
            .map(|_| {
                start += (time - start * UP_SHARE_OF_A_CHECK).max(1.0);
                start
            })
            .collect()
    };
    // The shortest time in which the lanes check everything.
    let (mut low, mut high) = (0.0, len as f64 * (1.0 + UP_SHARE_OF_A_CHECK));
    for _ in 0..64 {
        let mid = (low + high) / 2.0;
        if ends(mid)[lanes - 1] >= len as f64 {
            high = mid;
        } else {
            low = mid;
        }
    }
    let mut shares = Vec::with_capacity(lanes);
    let mut start = first;
    for (lane, end) in ends(high).into_iter().enumerate() {
        let remaining_lanes = lanes - lane - 1;
        let end = if remaining_lanes == 0 {
            len
        } else {
            // Round, leaving at least one migration for each lane after this one.
            (end.round() as usize).clamp(start + 1, len - remaining_lanes)
        };
        shares.push(start..end);
        start = end;
    }
    shares
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_consecutive_non_empty_and_cover_the_selection() {
        for (first, len, lanes) in [
            (0, 200, 2),
            (0, 400, 4),
            (5, 12, 3),
            (0, 3, 5),
            (90, 100, 4),
        ] {
            let shares = partition(first, len, lanes);
            assert_eq!(shares.len(), lanes.min(len - first), "{shares:?}");
            assert_eq!(shares[0].start, first);
            assert_eq!(shares.last().unwrap().end, len);
            for pair in shares.windows(2) {
                assert_eq!(pair[0].end, pair[1].start, "{shares:?}");
            }
            assert!(shares.iter().all(|s| !s.is_empty()), "{shares:?}");
        }
    }

    #[test]
    fn later_shares_are_smaller_by_the_ups_they_apply_first() {
        let shares = partition(0, 200, 2);
        // Equal times: n0 = start1 * UP_SHARE_OF_A_CHECK + n1.
        let (n0, n1) = (shares[0].len() as f64, shares[1].len() as f64);
        let start1 = shares[1].start as f64;
        assert!(
            (n0 - (start1 * UP_SHARE_OF_A_CHECK + n1)).abs() <= 1.5,
            "{shares:?}"
        );
        assert!(n0 > n1);
        assert_eq!(
            partition(0, 200, 1),
            std::iter::once(0..200).collect::<Vec<_>>()
        );
    }

    #[test]
    fn lanes_follow_the_cores_the_shares_and_server_wide_statements() {
        use crate::migrations::source::{read_set, LayoutChoice};
        let dir = tempfile::tempdir().unwrap();
        let write = |i: usize, up: &str| {
            let name = format!("{i:03}_t{i}");
            std::fs::write(dir.path().join(format!("{name}.up.sql")), up).unwrap();
            std::fs::write(
                dir.path().join(format!("{name}.down.sql")),
                format!("DROP TABLE t{i};"),
            )
            .unwrap();
        };
        for i in 1..=100 {
            write(i, &format!("CREATE TABLE t{i} (n int);"));
        }
        let set = read_set(dir.path(), LayoutChoice::Auto).unwrap();
        let lanes = |selection: Selection, requested, cores| {
            plan_lanes(&set, &selection, requested, cores)
                .unwrap()
                .lanes
        };
        assert_eq!(lanes(Selection::All, None, 2), 2);
        assert_eq!(
            lanes(Selection::All, None, 16),
            4,
            "at most four by default"
        );
        assert_eq!(lanes(Selection::All, None, 1), 1);
        assert_eq!(
            lanes(Selection::Last(30), None, 8),
            1,
            "20 migrations a lane"
        );
        assert_eq!(lanes(Selection::Last(45), None, 8), 2);
        assert_eq!(
            lanes(Selection::All, Some(3), 1),
            3,
            "--jobs wins over the cores"
        );
        assert_eq!(
            lanes(Selection::Last(5), Some(8), 2),
            5,
            "never more than checked"
        );

        write(50, "CREATE TABLE t50 (n int); GRANT t50_reader TO app;");
        let set = read_set(dir.path(), LayoutChoice::Auto).unwrap();
        let plan = plan_lanes(&set, &Selection::All, Some(4), 2).unwrap();
        assert_eq!(plan.lanes, 1);
        let reason = plan.single_because.unwrap();
        assert!(
            reason.contains("050_t50.up.sql runs GRANT ... TO"),
            "{reason}"
        );
    }
}
