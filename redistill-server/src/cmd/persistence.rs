//! Snapshot commands: SAVE, BGSAVE, LASTSAVE, with Redis 7.0's replies and errors.

use super::args::{SYNTAX, is};
use super::table::{acl, flags};
use super::{Command, CommandResult, Ctx};
use crate::persistence::{SaveError, SaveTarget};

pub(super) static COMMANDS: &[Command] = &[
    Command::new("save", 1, save).flags(flags!(ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI)),
    Command::new("bgsave", -1, bgsave).flags(flags!(ADMIN | NOSCRIPT | NO_ASYNC_LOADING)),
    Command::new("lastsave", 1, lastsave)
        .flags(flags!(LOADING | STALE | FAST))
        .acl(acl!(ADMIN | DANGEROUS))
        .tips(&["nondeterministic_output"]),
];

const IN_PROGRESS: &str = "ERR Background save already in progress";

fn target(ctx: &Ctx<'_>) -> SaveTarget {
    SaveTarget::from_config(&ctx.shared.config.read().persistence)
}

/// SAVE: writes the snapshot before replying. Only this client's worker waits; the others
/// keep serving. A failed save replies Redis's bare `-ERR`, the cause goes to the log.
fn save(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    let target = target(ctx);
    match ctx.shared.persistence.save(&ctx.shared.store, &target) {
        Ok(_) => ctx.reply().ok(),
        Err(SaveError::InProgress) => return Err(IN_PROGRESS.into()),
        Err(SaveError::Failed(_)) => return Err("ERR".into()),
    }
    Ok(())
}

/// BGSAVE [SCHEDULE]: starts a save on a thread of its own. With no other kind of
/// background job here, SCHEDULE behaves as in Redis when only a snapshot could be running:
/// it refuses while one is. Inside EXEC the save is scheduled, as Redis does, and the
/// snapshot thread starts it within one of its ticks, once the transaction is over.
fn bgsave(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    match args {
        [_] => {}
        [_, opt] if is(opt, "SCHEDULE") => {}
        _ => return Err(SYNTAX.into()),
    }
    if ctx.client.tx.in_exec {
        ctx.shared.persistence.schedule().map_err(|_| IN_PROGRESS)?;
        ctx.reply().simple(b"Background saving scheduled");
        return Ok(());
    }
    let target = target(ctx);
    match ctx.shared.persistence.bgsave(&ctx.shared.store, target) {
        Ok(()) => ctx.reply().simple(b"Background saving started"),
        Err(SaveError::InProgress) => return Err(IN_PROGRESS.into()),
        Err(SaveError::Failed(_)) => return Err("ERR".into()),
    }
    Ok(())
}

/// LASTSAVE: unix time of the last successful save (the start time before any).
fn lastsave(ctx: &mut Ctx<'_>, _args: &[&[u8]]) -> CommandResult {
    let at = ctx.shared.persistence.last_save_unix();
    ctx.reply().int(i64::try_from(at).unwrap_or(i64::MAX));
    Ok(())
}
