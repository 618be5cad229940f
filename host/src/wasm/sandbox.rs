//! The sandbox of one plugin: a WASI context holding only what its
//! [`Policy`] grants (its directories, no environment, the network
//! endpoints it was granted and nothing else, captured output) and a memory
//! limiter that names the limit it enforces.
//!
//! Files: each granted directory is a WASI preopen; wasmtime-wasi resolves
//! every guest path beneath one with cap-std, which refuses `..` past the
//! preopen, absolute paths outside every preopen, and symlinks that lead
//! out. An empty read-only directory is the preopen `/`, so a path outside
//! every grant reaches the host (`files.rs` records the denial) rather than
//! failing inside the guest's libc unseen. Network: TCP only, and only when `net` grants something; every
//! connect is checked against the granted endpoints (names resolved by the
//! host at connect time), everything else (listening, UDP) is refused.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use wasmtime::ResourceLimiter;
use wasmtime_wasi::sockets::SocketAddrUse;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder};

use super::output::{GuestOutput, Stream};
use crate::capabilities::audit::{self, At, Decision, Record};
use crate::capabilities::{NetGrant, Policy};
use crate::model::units::show_size;

/// Build the WASI context for a plugin.
/// The guest's environment holds only `HOOKHOST_HOOK`, its own stem, so a
/// plugin installed under several names can tell which one it is.
pub fn wasi_ctx(name: &str, policy: &Policy, output: &GuestOutput) -> anyhow::Result<WasiCtx> {
    let mut builder = WasiCtxBuilder::new();
    builder
        .env("HOOKHOST_HOOK", name)
        .stdout(output.stream(Stream::Stdout))
        .stderr(output.stream(Stream::Stderr))
        .allow_ip_name_lookup(false)
        .allow_tcp(false)
        .allow_udp(false);
    allow_net(&mut builder, name, policy);
    if let Some(root) = policy.root.as_ref().filter(|r| r.is_dir()) {
        builder
            .preopened_dir(root, "/", FsPerms::ReadOnly)
            .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", root.display()))?;
    }
    for dir in &policy.dirs {
        let perms = match dir.writable {
            true => FsPerms::ReadWrite,
            false => FsPerms::ReadOnly,
        };
        builder
            .preopened_dir(&dir.host, &dir.guest, perms)
            .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", dir.host.display()))?;
    }
    Ok(builder.build())
}

/// TCP goes through [`net_check`], which lets a connect reach only the
/// granted endpoints (none without a grant) and records every attempt in
/// the audit log; listening and UDP are refused. Name lookup is on only
/// when a granted host is a name: the guest must resolve it to connect. (A
/// lookup itself cannot be limited to the granted names by wasmtime-wasi;
/// the connect that follows is.)
fn allow_net(builder: &mut WasiCtxBuilder, name: &str, policy: &Policy) {
    let grants: Vec<NetGrant> = policy
        .net
        .iter()
        .filter_map(|n| NetGrant::parse(n))
        .collect();
    let names = grants.iter().any(|g| g.host.parse::<IpAddr>().is_err());
    builder
        .allow_tcp(true)
        .allow_ip_name_lookup(names)
        .socket_addr_check(net_check(name.to_string(), Arc::new(grants)));
}

type CheckFuture = Pin<Box<dyn Future<Output = bool> + Send + Sync>>;

/// The check wasmtime-wasi runs before every socket operation.
fn net_check(
    hook: String,
    grants: Arc<Vec<NetGrant>>,
) -> impl Fn(SocketAddr, SocketAddrUse) -> CheckFuture + Send + Sync + 'static {
    move |addr, use_| {
        let hook = hook.clone();
        let grants = grants.clone();
        Box::pin(async move {
            match use_ {
                // The implicit bind of a connect: an ephemeral local port.
                SocketAddrUse::TcpBind => addr.ip().is_unspecified() && addr.port() == 0,
                SocketAddrUse::TcpConnect => {
                    let allowed = connect_allowed(&grants, addr).await;
                    let decision = match allowed {
                        true => Decision::Used,
                        false => Decision::Denied,
                    };
                    audit::record(Record {
                        hook: &hook,
                        at: At::Run,
                        phase: None,
                        kind: "net",
                        item: &addr.to_string(),
                        decision,
                        detail: None,
                    });
                    allowed
                }
                _ => false,
            }
        })
    }
}

/// Is `addr` one of the granted endpoints? Names are resolved now, so a
/// host whose addresses rotate still matches what the guest resolved.
async fn connect_allowed(grants: &[NetGrant], addr: SocketAddr) -> bool {
    let ip = addr.ip().to_canonical();
    for grant in grants
        .iter()
        .filter(|g| g.port.is_none_or(|p| p == addr.port()))
    {
        if let Ok(granted) = grant.host.parse::<IpAddr>() {
            if granted.to_canonical() == ip {
                return true;
            }
            continue;
        }
        let found = tokio::net::lookup_host((grant.host.as_str(), addr.port())).await;
        if found.is_ok_and(|mut addrs| addrs.any(|a| a.ip().to_canonical() == ip)) {
            return true;
        }
    }
    false
}

/// Enforces a plugin's memory ceiling and remembers a breach, so the
/// failure can say which limit was hit rather than show a bare trap.
/// The ceiling covers all linear memories of the plugin together (a
/// component has several: its own and its adapters').
pub struct Limiter {
    max: u64,
    /// Bytes of linear memory the plugin holds, over all its memories.
    used: u64,
    exceeded: AtomicU64,
}

impl Limiter {
    pub fn new(max: u64) -> Limiter {
        Limiter {
            max,
            used: 0,
            exceeded: AtomicU64::new(0),
        }
    }

    pub fn max(&self) -> u64 {
        self.max
    }

    /// The size a refused growth asked for, if any growth was refused.
    pub fn exceeded(&self) -> Option<u64> {
        match self.exceeded.load(Ordering::Relaxed) {
            0 => None,
            wanted => Some(wanted),
        }
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let growth = desired.saturating_sub(current) as u64;
        let total = self.used.saturating_add(growth);
        if total <= self.max {
            self.used = total;
            return Ok(true);
        }
        self.exceeded.store(total, Ordering::Relaxed);
        Err(wasmtime::Error::msg(format!(
            "memory limit of {} exceeded",
            show_size(self.max)
        )))
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}
