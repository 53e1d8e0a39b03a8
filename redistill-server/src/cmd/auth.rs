//! AUTH, and the password check HELLO shares.

use super::args::SYNTAX;
use super::{Command, Ctx};
use crate::stats::Stats;

pub(super) static COMMANDS: &[Command] = &[Command::new(
    "auth",
    -2,
    &[
        "noscript",
        "loading",
        "stale",
        "fast",
        "no_auth",
        "allow_busy",
    ],
    (0, 0, 0),
    auth,
)];

const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";

/// AUTH [username] password: the only user is `default`, whose password is
/// `[security] password`.
fn auth(ctx: &mut Ctx<'_>, args: &[&[u8]]) {
    let (user, password) = match args {
        [_, password] => {
            if ctx.shared.config.read().security.password.is_none() {
                return ctx.reply().error(
                    "ERR AUTH <password> called without any password configured for the \
                     default user. Are you sure your configuration is correct?",
                );
            }
            (&b"default"[..], password)
        }
        [_, user, password] => (*user, password),
        _ => return ctx.reply().error(SYNTAX),
    };
    if authenticate(ctx, user, password) {
        ctx.reply().ok();
    } else {
        ctx.reply().error(WRONGPASS);
    }
}

/// Checks credentials and marks the client authenticated when they are right. Without a
/// password, the `default` user takes any password, as in Redis.
pub(super) fn authenticate(ctx: &mut Ctx<'_>, user: &[u8], password: &[u8]) -> bool {
    let ok = user == b"default"
        && match &ctx.shared.config.read().security.password {
            None => true,
            // Compare in constant time so the reply's timing tells nothing of the password.
            Some(expected) => constant_time_eq::constant_time_eq(expected.as_bytes(), password),
        };
    if ok {
        ctx.client.authenticated = true;
    } else {
        Stats::add(&ctx.shared.stats.auth_failures, 1);
    }
    ok
}

/// The error for a failed HELLO AUTH.
pub(super) fn wrong_password(ctx: &mut Ctx<'_>) {
    ctx.reply().error(WRONGPASS);
}
