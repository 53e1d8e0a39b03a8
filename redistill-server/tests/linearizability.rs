//! The linearizability checker on hand-made histories of keyspace commands, where the
//! verdict is known.

mod common;

/// The checker on hand-made histories, where the verdict is known.
mod checker {
    use std::time::Duration;

    use super::common::keyspace_model::{Command, KeyspaceModel, Reply, Value};
    use super::common::linearizability::{Operation, Violation, check};

    /// An operation by `client` from `invoked` to `returned` (µs), answered `reply`.
    fn op(
        client: usize,
        command: Command,
        invoked: u64,
        returned: u64,
        reply: Reply,
    ) -> Operation<Command, Reply> {
        Operation {
            client,
            input: command,
            invoked: Duration::from_micros(invoked),
            returned: Some((Duration::from_micros(returned), reply)),
        }
    }

    /// An operation whose reply never came.
    fn unanswered(client: usize, command: Command, invoked: u64) -> Operation<Command, Reply> {
        Operation {
            client,
            input: command,
            invoked: Duration::from_micros(invoked),
            returned: None,
        }
    }

    fn verdict(history: &[Operation<Command, Reply>]) -> Result<(), Violation> {
        check(&KeyspaceModel { keys: 3 }, history)
    }

    const V: Value = Value::Int(7000);
    const W: Value = Value::Word(8);

    #[test]
    fn a_sequential_history_that_follows_the_model_passes() {
        let history = [
            op(0, Command::Set(0, V), 0, 1, Reply::Ok),
            op(1, Command::Exists(vec![0, 1]), 2, 3, Reply::Integer(1)),
            op(0, Command::Rename(0, 1), 4, 5, Reply::Ok),
            op(
                1,
                Command::Mget(vec![0, 1]),
                6,
                7,
                Reply::Values(vec![None, Some(V)]),
            ),
            op(1, Command::Incr(1), 8, 9, Reply::Integer(7001)),
            op(
                0,
                Command::Rename(0, 2),
                10,
                11,
                Reply::Error("ERR no such key".into()),
            ),
        ];
        verdict(&history).expect("linearizable");
    }

    #[test]
    fn overlapping_operations_may_take_effect_in_either_order() {
        for seen in [None, Some(V)] {
            let history = [
                op(0, Command::Set(0, V), 0, 10, Reply::Ok),
                op(1, Command::Get(0), 2, 8, Reply::Value(seen)),
            ];
            verdict(&history).expect("the read may come before or after the write");
        }
    }

    #[test]
    fn a_read_after_a_write_returned_must_see_it() {
        let history = [
            op(0, Command::Set(0, V), 0, 1, Reply::Ok),
            op(1, Command::Set(0, W), 2, 10, Reply::Ok),
            op(2, Command::Get(0), 11, 12, Reply::Value(Some(V))),
        ];
        let violation = verdict(&history).expect_err("a stale read");
        assert_eq!(violation.stuck, 2);
        assert_eq!(violation.linearized, [0, 1]);
    }

    /// The reported bug: EXISTS of both keys, while one is renamed into the other, must
    /// count exactly one.
    #[test]
    fn exists_must_not_see_a_rename_half_done() {
        for (counted, linearizable) in [(0, false), (1, true), (2, false)] {
            let history = [
                op(0, Command::Set(0, V), 0, 1, Reply::Ok),
                op(0, Command::Rename(0, 1), 2, 10, Reply::Ok),
                op(
                    1,
                    Command::Exists(vec![0, 1]),
                    3,
                    9,
                    Reply::Integer(counted),
                ),
            ];
            assert_eq!(
                verdict(&history).is_ok(),
                linearizable,
                "EXISTS -> {counted}"
            );
        }
    }

    #[test]
    fn mget_must_not_see_a_delete_half_done() {
        let history = [
            op(0, Command::Mset(vec![(0, V), (1, W)]), 0, 1, Reply::Ok),
            op(0, Command::Del(vec![0, 1]), 2, 10, Reply::Integer(2)),
            op(
                1,
                Command::Mget(vec![0, 1]),
                3,
                9,
                Reply::Values(vec![None, Some(W)]),
            ),
        ];
        assert!(verdict(&history).is_err());
    }

    /// A write whose reply never came may have taken effect at any point after it was sent,
    /// or not at all; but once a read saw it, a later read cannot miss it.
    #[test]
    fn an_unanswered_write_may_or_may_not_take_effect() {
        for seen in [None, Some(V)] {
            let history = [
                unanswered(0, Command::Set(0, V), 0),
                op(1, Command::Get(0), 5, 6, Reply::Value(seen)),
                op(1, Command::Get(0), 7, 8, Reply::Value(seen)),
            ];
            verdict(&history).expect("either way");
        }
        let history = [
            unanswered(0, Command::Set(0, V), 0),
            op(1, Command::Get(0), 5, 6, Reply::Value(Some(V))),
            op(1, Command::Get(0), 7, 8, Reply::Value(None)),
        ];
        assert!(verdict(&history).is_err(), "the write cannot be undone");
        let history = [
            op(1, Command::Get(0), 0, 1, Reply::Value(Some(V))),
            unanswered(0, Command::Set(0, V), 2),
        ];
        assert!(
            verdict(&history).is_err(),
            "nor take effect before it was sent"
        );
    }

    #[test]
    fn the_report_shows_the_operations_around_the_violation() {
        let history = [
            op(0, Command::Set(0, V), 0, 1, Reply::Ok),
            op(0, Command::Rename(0, 1), 2, 10, Reply::Ok),
            op(1, Command::Exists(vec![0, 1]), 3, 9, Reply::Integer(2)),
            op(2, Command::Get(2), 20, 21, Reply::Value(None)),
        ];
        let violation = verdict(&history).expect_err("EXISTS saw both keys");
        assert_eq!(violation.stuck, 2);
        let report = violation.to_string();
        for shown in [
            "at most 2 of 4 operations",
            "{k1=7000}",
            "#2 EXISTS k0 k1 -> 1   (got 2)",
            "client 0  #1       [1]  call   RENAME k0 k1",
            "client 1  #2            return -> 2 <- stuck",
        ] {
            assert!(report.contains(shown), "{shown:?} missing from:\n{report}");
        }
        assert!(
            !report.contains("GET k2"),
            "unrelated later operations are left out"
        );
    }
}
