//! Snapshot commands: SAVE, BGSAVE, LASTSAVE, with Redis 7.0's replies and errors.

use super::args::{SYNTAX, is};
use super::{Command, Ctx};
use crate::persistence::{SaveError, SaveTarget};

pub(super) static COMMANDS: &[Command] = &[
    Command::new(
        "save",
        1,
        &["admin", "noscript", "no_async_loading", "no_multi"],
        (0, 0, 0),
        save,
    ),
    Command::new(
        "bgsave",
        -1,
        &["admin", "noscript", "no_async_loading"],
        (0, 0, 0),
        bgsave,
    ),
    Command::new(
        "lastsave",
        1,
        &["loading", "stale", "fast"],
        (0, 0, 0),
        lastsave,
    ),
];

const IN_PROGRESS: &str = "ERR Background save already in progress";

fn target(ctx: &Ctx<'_>) -> SaveTarget {
    SaveTarget::from_config(&ctx.shared.config.read().persistence)
}

/// SAVE: writes the snapshot before replying. Only this client's worker waits; the others
/// keep serving. A failed save replies Redis's bare `-ERR`, the cause goes to the log.
fn save(ctx: &mut Ctx<'_>, _args: &[&[u8]]) {
    let target = target(ctx);
    match ctx.shared.persistence.save(&ctx.shared.store, &target) {
        Ok(_) => ctx.reply().ok(),
        Err(SaveError::InProgress) => ctx.reply().error(IN_PROGRESS),
        Err(SaveError::Failed(_)) => ctx.reply().error("ERR"),
    }
}

/// BGSAVE [SCHEDULE]: starts a save on a thread of its own. With no other kind of
/// background job here, SCHEDULE behaves as in Redis when only a snapshot could be running:
/// it refuses while one is. Inside EXEC the save is scheduled, as Redis does, and the
/// snapshot thread starts it within one of its ticks, once the transaction is over.
fn bgsave(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    match args {
        [_] => {}
        [_, opt] if is(opt, "SCHEDULE") => {}
        _ => return ctx.reply().error(SYNTAX),
    }
    if ctx.client.tx.in_exec {
        return match ctx.shared.persistence.schedule() {
            Ok(()) => ctx.reply().simple(b"Background saving scheduled"),
            Err(_) => ctx.reply().error(IN_PROGRESS),
        };
    }
    let target = target(ctx);
    match ctx.shared.persistence.bgsave(&ctx.shared.store, target) {
        Ok(()) => ctx.reply().simple(b"Background saving started"),
        Err(SaveError::InProgress) => ctx.reply().error(IN_PROGRESS),
        Err(SaveError::Failed(_)) => ctx.reply().error("ERR"),
    }
}

/// LASTSAVE: unix time of the last successful save (the start time before any).
fn lastsave(ctx: &mut Ctx<'_>, _args: &[&[u8]]) {
    let at = ctx.shared.persistence.last_save_unix();
    ctx.reply().int(i64::try_from(at).unwrap_or(i64::MAX));
}
