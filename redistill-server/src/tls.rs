//! TLS set-up: the `[security]` keys turned into a rustls server configuration.
//!
//! Files are read once, at start; every failure names the file and the key that pointed
//! at it, so the operator knows what to fix without reading a backtrace. Connections then
//! share one [`rustls::ServerConfig`] (and its session cache).
//!
//! # Examples
//!
//! ```
//! use redistill_server::config::Config;
//! use redistill_server::tls::{self, TlsError};
//!
//! let loaded = Config::from_toml_str(
//!     r#"
//!     [security]
//!     tls_enabled = true
//!     tls_port = 6380
//!     tls_cert_path = "/nonexistent/redistill.crt"
//!     tls_key_path = "/nonexistent/redistill.key"
//!     "#,
//! )?;
//! let err = tls::server_config(&loaded.config.security).unwrap_err();
//! assert!(matches!(err, TlsError::Read { .. }));
//! assert!(err.to_string().contains("/nonexistent/redistill.crt"));
//! # Ok::<(), redistill_server::config::ConfigError>(())
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::SecurityConfig;

/// Why TLS could not be set up. Each variant names the configuration key and, where one
/// is involved, the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A key that TLS needs is not set.
    #[error("{key} is required when security.tls_enabled is true")]
    Missing {
        /// The key to set, e.g. `security.tls_cert_path`.
        key: &'static str,
    },
    /// A file could not be read.
    #[error("cannot read {key} {}: {source}", path.display())]
    Read {
        /// The key that names the file.
        key: &'static str,
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A file holds no usable PEM item of the kind the key asks for.
    #[error("{key} {} is not valid: {reason}", path.display())]
    Invalid {
        /// The key that names the file.
        key: &'static str,
        /// The file.
        path: PathBuf,
        /// What is wrong with its content.
        reason: String,
    },
    /// The files parse but rustls refuses them together (e.g. the key does not match the
    /// certificate, or uses an unsupported algorithm).
    #[error("cannot use certificate {} with key {}: {reason}", cert.display(), key.display())]
    Rejected {
        /// The certificate chain file.
        cert: PathBuf,
        /// The private key file.
        key: PathBuf,
        /// rustls's reason.
        reason: String,
    },
}

const CERT_KEY: &str = "security.tls_cert_path";
const KEY_KEY: &str = "security.tls_key_path";
const CA_KEY: &str = "security.tls_ca_cert_path";

/// Builds the rustls server configuration from the `[security]` keys.
///
/// With `tls_ca_cert_path` set, client certificates are verified against that CA bundle:
/// required when `tls_auth_clients` is true, checked only if presented otherwise (Redis's
/// `tls-auth-clients optional`).
///
/// # Errors
///
/// A [`TlsError`] naming the key and the file at fault: unset, unreadable, not PEM, no
/// certificate or key in it, or a certificate and key that do not go together.
pub fn server_config(security: &SecurityConfig) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let cert_path = security
        .tls_cert_path
        .as_deref()
        .ok_or(TlsError::Missing { key: CERT_KEY })?;
    let key_path = security
        .tls_key_path
        .as_deref()
        .ok_or(TlsError::Missing { key: KEY_KEY })?;
    let certs = certificates(CERT_KEY, cert_path)?;
    let key = private_key(key_path)?;

    let builder = rustls::ServerConfig::builder();
    let builder = match security.tls_ca_cert_path.as_deref() {
        Some(ca_path) => {
            let mut roots = RootCertStore::empty();
            for cert in certificates(CA_KEY, ca_path)? {
                roots.add(cert).map_err(|e| TlsError::Invalid {
                    key: CA_KEY,
                    path: ca_path.to_path_buf(),
                    reason: e.to_string(),
                })?;
            }
            let verifier = WebPkiClientVerifier::builder(Arc::new(roots));
            let verifier = if security.tls_auth_clients {
                verifier
            } else {
                verifier.allow_unauthenticated()
            };
            let verifier = verifier.build().map_err(|e| TlsError::Invalid {
                key: CA_KEY,
                path: ca_path.to_path_buf(),
                reason: e.to_string(),
            })?;
            builder.with_client_cert_verifier(verifier)
        }
        None if security.tls_auth_clients => return Err(TlsError::Missing { key: CA_KEY }),
        None => builder.with_no_client_auth(),
    };
    let config = builder
        .with_single_cert(certs, key)
        .map_err(|e| TlsError::Rejected {
            cert: cert_path.to_path_buf(),
            key: key_path.to_path_buf(),
            reason: e.to_string(),
        })?;
    Ok(Arc::new(config))
}

fn read(key: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        key,
        path: path.to_path_buf(),
        source,
    })
}

/// Every certificate in a PEM file; at least one.
fn certificates(key: &'static str, path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read(key, path)?;
    let invalid = |reason: String| TlsError::Invalid {
        key,
        path: path.to_path_buf(),
        reason,
    };
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(e.to_string()))?;
    if certs.is_empty() {
        return Err(invalid(
            "no PEM certificate (BEGIN CERTIFICATE) in it".to_owned(),
        ));
    }
    Ok(certs)
}

/// The first private key in a PEM file (PKCS#8, PKCS#1 or SEC1).
fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = read(KEY_KEY, path)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| TlsError::Invalid {
        key: KEY_KEY,
        path: path.to_path_buf(),
        reason: match e {
            rustls_pki_types::pem::Error::NoItemsFound => {
                "no PEM private key (BEGIN PRIVATE KEY) in it".to_owned()
            }
            other => other.to_string(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn security(cert: &Path, key: &Path) -> SecurityConfig {
        SecurityConfig {
            tls_enabled: true,
            tls_cert_path: Some(cert.to_path_buf()),
            tls_key_path: Some(key.to_path_buf()),
            ..SecurityConfig::default()
        }
    }

    fn self_signed(dir: &Path) -> (PathBuf, PathBuf) {
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let cert_path = dir.join("cert.pem");
        let key_path = dir.join("key.pem");
        std::fs::write(&cert_path, cert.cert.pem()).unwrap();
        std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
        (cert_path, key_path)
    }

    #[test]
    fn a_valid_pair_loads() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = self_signed(dir.path());
        server_config(&security(&cert, &key)).unwrap();
    }

    #[test]
    fn missing_cert_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let (_, key) = self_signed(dir.path());
        let missing = dir.path().join("nope.pem");
        let err = server_config(&security(&missing, &key)).unwrap_err();
        assert!(
            matches!(err, TlsError::Read { key: CERT_KEY, .. }),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(text.contains("nope.pem"), "{text}");
        assert!(text.contains("security.tls_cert_path"), "{text}");
    }

    #[test]
    fn garbage_key_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = self_signed(dir.path());
        std::fs::write(&key, b"this is not a key\n").unwrap();
        let err = server_config(&security(&cert, &key)).unwrap_err();
        assert!(
            matches!(err, TlsError::Invalid { key: KEY_KEY, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("key.pem"), "{err}");
    }

    #[test]
    fn a_key_file_holding_a_certificate_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, _) = self_signed(dir.path());
        let err = server_config(&security(&cert, &cert)).unwrap_err();
        assert!(
            matches!(err, TlsError::Invalid { key: KEY_KEY, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn a_key_of_another_certificate_is_refused_naming_both() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, _) = self_signed(dir.path());
        let other = tempfile::tempdir().unwrap();
        let (_, key) = self_signed(other.path());
        let err = server_config(&security(&cert, &key)).unwrap_err();
        assert!(matches!(err, TlsError::Rejected { .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.contains(&cert.display().to_string()), "{text}");
        assert!(text.contains(&key.display().to_string()), "{text}");
    }

    #[test]
    fn client_auth_without_a_ca_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = self_signed(dir.path());
        let mut security = security(&cert, &key);
        security.tls_auth_clients = true;
        let err = server_config(&security).unwrap_err();
        assert!(matches!(err, TlsError::Missing { key: CA_KEY }), "{err:?}");
        security.tls_ca_cert_path = Some(cert);
        server_config(&security).unwrap();
    }
}
