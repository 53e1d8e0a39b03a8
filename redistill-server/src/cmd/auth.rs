//! AUTH, and the password check HELLO shares.

use super::args::SYNTAX;
use super::table::{acl, flags};
use super::{Command, CommandResult, Ctx, Unresolved};
use crate::stats::Stats;

pub(super) static COMMANDS: &[Command] = &[Command::new("auth", -2, auth)
    .flags(flags!(
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY
    ))
    .acl(acl!(CONNECTION))];

const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";

/// AUTH [username] password: the only user is `default`, whose password is
/// `[security] password`.
fn auth(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CommandResult {
    if args.len() <= 3 {
        // As Redis: the credentials are hidden from MONITOR whatever follows.
        for i in 1..args.len() {
            ctx.redact(i);
        }
    }
    let (user, password) = match args {
        [_, password] => {
            if ctx.shared.config.read().security.password.is_none() {
                return Err(
                    "ERR AUTH <password> called without any password configured for the \
                     default user. Are you sure your configuration is correct?"
                        .into(),
                );
            }
            (&b"default"[..], password)
        }
        [_, user, password] => (*user, password),
        _ => return Err(SYNTAX.into()),
    };
    if !authenticate(ctx, user, password) {
        return Err(WRONGPASS.into());
    }
    ctx.reply().ok();
    Ok(())
}

/// Checks credentials and marks the client authenticated when they are right. Without a
/// password, the `default` user takes any password, as in Redis.
pub(super) fn authenticate(ctx: &mut Ctx<'_>, user: &[u8], password: &[u8]) -> bool {
    let ok = user == b"default"
        && match &ctx.shared.config.read().security.password {
            None => true,
            Some(expected) => passwords_match(expected.as_bytes(), password),
        };
    if ok {
        ctx.client.authenticated = true;
    } else {
        Stats::add(&ctx.shared.stats.auth_failures, 1);
    }
    ok
}

/// Whether `given` is the password `expected`, in time that tells nothing of either.
///
/// Comparing the raw bytes in constant time is not enough: such comparisons return at once
/// when the lengths differ, which tells a client probing with growing passwords the length
/// of the real one. The SHA-256 digests are always 32 bytes, so the comparison of those
/// takes the same time whatever was sent.
fn passwords_match(expected: &[u8], given: &[u8]) -> bool {
    let digest = |bytes: &[u8]| {
        let mut out = [0u8; 32];
        out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref());
        out
    };
    constant_time_eq::constant_time_eq_32(&digest(expected), &digest(given))
}

/// The error for a failed HELLO AUTH.
pub(super) fn wrong_password() -> CommandResult {
    Err(WRONGPASS.into())
}

/// Whether the current user may run `args` (`redis.acl_check_cmd`); `None` for an unknown
/// command or subcommand. The one user, `default`, may run every command, whatever its
/// arguments.
pub(crate) fn acl_permits(args: &[&[u8]]) -> Option<bool> {
    match super::resolve(args) {
        Ok(_) | Err(Unresolved::ContainerArity(_)) => Some(true),
        Err(Unresolved::Unknown | Unresolved::UnknownSubcommand) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::passwords_match;

    #[test]
    fn only_the_same_bytes_match() {
        assert!(passwords_match(b"secret", b"secret"));
        assert!(passwords_match(b"", b""));
        for wrong in [&b""[..], b"s", b"secre", b"secret ", b"Secret", b"secret\0"] {
            assert!(!passwords_match(b"secret", wrong), "{wrong:?}");
        }
        let long = vec![b'x'; 10_000];
        assert!(passwords_match(&long, &long));
        assert!(!passwords_match(&long, &long[..9_999]));
    }
}
