//! Whom the acceptor serves: protected mode and the new-connection rate limit.
//!
//! These are decisions on a freshly accepted socket, kept apart from the socket handling
//! so they can be tested without a network.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::config::Config;

/// What a client from another host gets while protected mode is on and no password is
/// set: Redis 7's text, with the ways out named as this server spells them.
pub(crate) const PROTECTED_MODE_DENIED: &[u8] = b"-DENIED Redis is running in protected mode \
because protected mode is enabled and no password is set for the default user. In this mode \
connections are only accepted from the loopback interface. If you want to connect from \
external computers to Redis you may adopt one of the following solutions: 1) Just disable \
protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface \
by connecting to Redis from the same host the server is running, however MAKE SURE Redis is \
not publicly accessible from internet if you do so. 2) Alternatively you can just disable the \
protected mode by editing the configuration file (redistill.toml), and setting \
protected_mode = false in its [server] section, and then restarting the server. 3) If you \
started the server manually just for testing, restart it with the '--protected-mode no' \
option. 4) Set up an authentication password for the default user (security.password, \
REDIS_PASSWORD or '--requirepass'). NOTE: You only need to do one of the above things in \
order for the server to start accepting connections from the outside.\r\n";

/// What a plain-TCP client gets when `server.max_connections` clients are connected.
pub(crate) const MAX_CLIENTS_REACHED: &[u8] = b"-ERR max number of clients reached\r\n";

/// What a plain-TCP client gets when it is over `server.max_new_connections_per_second`.
pub(crate) const RATE_LIMITED: &[u8] = b"-ERR max number of new connections per second reached\r\n";

/// Whether protected mode refuses a client from `peer`: as in Redis 7, protected mode is
/// on, the default user has no password, and the client is not on the loopback interface.
pub(crate) fn protected_mode_refuses(config: &Config, peer: IpAddr) -> bool {
    config.server.protected_mode && config.security.password.is_none() && !is_loopback(peer)
}

/// Loopback, including an IPv4 loopback address mapped into IPv6 (a dual-stack listener
/// sees local IPv4 clients that way).
fn is_loopback(ip: IpAddr) -> bool {
    ip.to_canonical().is_loopback()
}

/// At most `limit` new connections in each one-second window.
///
/// Fixed windows rather than a sliding log: one counter and one timestamp, checked only by
/// the acceptor thread. A burst straddling a window edge can get up to twice the limit
/// through, which is acceptable for a guard against connection floods.
#[derive(Debug, Default)]
pub(crate) struct RateLimit {
    window_start: Option<Instant>,
    admitted: u64,
}

impl RateLimit {
    const WINDOW: Duration = Duration::from_secs(1);

    /// Whether a connection arriving at `now` is admitted under `limit` per second
    /// (0: no limit).
    pub fn admit(&mut self, limit: u64, now: Instant) -> bool {
        if limit == 0 {
            return true;
        }
        let fresh = self
            .window_start
            .is_none_or(|start| now.saturating_duration_since(start) >= Self::WINDOW);
        if fresh {
            self.window_start = Some(now);
            self.admitted = 0;
        }
        if self.admitted >= limit {
            return false;
        }
        self.admitted += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(protected: bool, password: Option<&str>) -> Config {
        let mut config = Config::default();
        config.server.protected_mode = protected;
        config.security.password = password.map(str::to_owned);
        config
    }

    #[test]
    fn protected_mode_refuses_only_remote_clients_without_a_password() {
        let remote: IpAddr = "192.0.2.7".parse().unwrap();
        let remote6: IpAddr = "2001:db8::7".parse().unwrap();
        let local: IpAddr = "127.0.0.1".parse().unwrap();
        let local_other: IpAddr = "127.1.2.3".parse().unwrap();
        let local6: IpAddr = "::1".parse().unwrap();
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        let mapped_remote: IpAddr = "::ffff:192.0.2.7".parse().unwrap();

        let on = config(true, None);
        for ip in [remote, remote6, mapped_remote] {
            assert!(protected_mode_refuses(&on, ip), "{ip}");
        }
        for ip in [local, local_other, local6, mapped] {
            assert!(!protected_mode_refuses(&on, ip), "{ip}");
        }
        assert!(!protected_mode_refuses(&config(false, None), remote));
        assert!(!protected_mode_refuses(&config(true, Some("pw")), remote));
    }

    #[test]
    fn denied_text_is_one_redis_error_line() {
        let text = std::str::from_utf8(PROTECTED_MODE_DENIED).unwrap();
        assert!(text.starts_with("-DENIED Redis is running in protected mode because"));
        assert!(text.ends_with(".\r\n"));
        assert_eq!(text.matches("\r\n").count(), 1);
        assert!(!text.contains('\n') || text.find('\n') == Some(text.len() - 1));
    }

    #[test]
    fn rate_limit_admits_limit_per_window() {
        let mut limit = RateLimit::default();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limit.admit(3, t0));
        }
        assert!(!limit.admit(3, t0));
        assert!(!limit.admit(3, t0 + Duration::from_millis(999)));
        assert!(limit.admit(3, t0 + Duration::from_secs(1)));
        assert!(limit.admit(3, t0 + Duration::from_secs(1)));
        assert!(limit.admit(3, t0 + Duration::from_secs(1)));
        assert!(!limit.admit(3, t0 + Duration::from_secs(1)));
    }

    #[test]
    fn zero_means_no_rate_limit() {
        let mut limit = RateLimit::default();
        let t0 = Instant::now();
        assert!((0..10_000).all(|_| limit.admit(0, t0)));
    }
}
