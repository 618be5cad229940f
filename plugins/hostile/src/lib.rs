//! Test fixture for hookhost's sandbox tests (`host/tests/sandbox.rs`); never
//! shipped, never part of the demo.
//!
//! In the phase named by `HOSTILE_PHASE` (default `source`; `every`: each phase) it carries out
//! the attack named by `HOSTILE_ATTACK`, then prints one line:
//!
//! - `HOSTILE refused: <why>` when the host stopped it, or
//! - `HOSTILE got: <what>` when the attempt went through (a test of a
//!   granted capability expects that; an attack test fails on it).
//!
//! Either way the phase returns `Ok`, so what the host does about the
//! attempt is what a test sees. The resource attacks (`loop`, `alloc`,
//! `print`, `recurse`, `panic`) never return: the host must stop them.
//!
//! Attacks and the variables they take:
//!
//! | attack | what it does |
//! |---|---|
//! | `read` | read the file `HOSTILE_PATH` (a guest path) |
//! | `write` | write `pwned` to the file `HOSTILE_PATH` |
//! | `list` | list the directory `HOSTILE_PATH` |
//! | `getvar` | read the variable `HOSTILE_VAR` through the host and the WASI environment |
//! | `setvar` | set the variable `HOSTILE_VAR` to `pwned` |
//! | `run` | run `HOSTILE_CMD` (words split on spaces) |
//! | `call` | call the shell function `HOSTILE_FUNC` |
//! | `connect` | open a TCP connection to `HOSTILE_ADDR` (`ipv4:port` or `name:port`) and send `hello` |
//! | `loop` | spin forever |
//! | `alloc` | allocate 1 MiB at a time, forever |
//! | `print` | print 64 KiB lines forever |
//! | `recurse` | recurse until the wasm call stack overflows |
//! | `recurse-frames` | recurse with big frames until the stack in linear memory overflows |
//! | `panic` | panic with `hostile panic` |
//! | `is-enabled`, `enable`, `disable` | the service helper, with the service name `HOSTILE_SERVICE` |
//! | `set-value` | set the variable `HOSTILE_VAR` to `HOSTILE_VALUE` |
//!
//! The attacks with strings (huge, terminal-driving, not-a-name) are in
//! `strings.rs`, with their table.
//! The attacks on the shared bash session (`ask-loop`, `call-loop`...) are
//! listed in `session.rs`.

use std::hint::black_box;
use std::io::Write;

use hookhost_sdk::prelude::*;

mod boundary;
mod files;
mod session;
mod strings;

#[derive(Default)]
struct Hostile;

/// A variable the fixture was told, or an empty string.
fn arg(name: &str) -> String {
    get_var(name).unwrap_or_default()
}

impl Hostile {
    fn phase(&mut self, phase: &str) -> Result {
        let wanted = get_var("HOSTILE_PHASE").unwrap_or_else(|| "source".to_string());
        if wanted != phase && wanted != "every" {
            return Ok(());
        }
        let attack = arg("HOSTILE_ATTACK");
        strings::hook_error(&attack)?;
        match attempt(&attack) {
            Ok(what) => println!("HOSTILE got: {what}"),
            Err(why) => println!("HOSTILE refused: {why}"),
        }
        Ok(())
    }
}

/// Carry out one attack: `Ok` when it went through, `Err` when refused.
fn attempt(attack: &str) -> std::result::Result<String, String> {
    if let Some(result) = session::attempt(attack) {
        return result;
    }
    let path = arg("HOSTILE_PATH");
    match attack {
        "read" => std::fs::read_to_string(&path)
            .map(|text| format!("read {path}: {}", text.trim()))
            .map_err(|e| format!("read {path}: {e}")),
        "write" => std::fs::write(&path, "pwned\n")
            .map(|()| format!("wrote {path}"))
            .map_err(|e| format!("write {path}: {e}")),
        "list" => list(&path),
        "getvar" => getvar(&arg("HOSTILE_VAR")),
        "setvar" => {
            let name = arg("HOSTILE_VAR");
            set_var(&name, "pwned")
                .map(|()| format!("set {name}"))
                .map_err(|e| format!("set {name}: {e}"))
        }
        "run" => run(&arg("HOSTILE_CMD")),
        "call" => {
            let name = arg("HOSTILE_FUNC");
            call_function(&name, &[])
                .map(|status| format!("called {name}: status {status}"))
                .map_err(|e| format!("call {name}: {e}"))
        }
        "connect" => connect(&arg("HOSTILE_ADDR")),
        "loop" => spin(),
        "alloc" => alloc(),
        "print" => print(),
        "recurse" => Ok(format!("recursed {}", recurse(black_box(0)))),
        "recurse-frames" => Ok(format!("recursed {}", recurse_frames(black_box(0)))),
        "panic" => panic!("hostile panic"),
        "symlink" | "hardlink" | "swap" | "many" => files::attempt(attack, &path),
        other => boundary::attempt(other)
            .or_else(|| strings::attempt(other))
            .unwrap_or_else(|| Err(format!("unknown attack {other:?}"))),
    }
}

fn list(path: &str) -> std::result::Result<String, String> {
    let entries = std::fs::read_dir(path).map_err(|e| format!("list {path}: {e}"))?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Ok(format!("list {path}: [{}]", names.join(" ")))
}

fn getvar(name: &str) -> std::result::Result<String, String> {
    if let Ok(value) = std::env::var(name) {
        return Ok(format!("{name}={value} from the WASI environment"));
    }
    match get_var(name) {
        Some(value) => Ok(format!("{name}={value}")),
        None => Err(format!("{name} reads as unset")),
    }
}

fn run(command: &str) -> std::result::Result<String, String> {
    let mut words = command.split_whitespace();
    let program = words.next().unwrap_or_default();
    let args: Vec<&str> = words.collect();
    match run_command(program, &args) {
        Ok(out) => Ok(format!(
            "ran {command}: status {} stdout {:?}",
            out.status,
            String::from_utf8_lossy(&out.stdout).trim()
        )),
        Err(e) => Err(format!("run {command}: {e}")),
    }
}

/// A TCP connection through raw `wasi:sockets` calls (the fallback
/// toolchain's wasi-libc has no sockets for `std::net`).
fn connect(addr: &str) -> std::result::Result<String, String> {
    use wasip2::sockets::instance_network::instance_network;
    use wasip2::sockets::network::{
        ErrorCode, IpAddressFamily, IpSocketAddress, Ipv4SocketAddress,
    };
    use wasip2::sockets::tcp_create_socket::create_tcp_socket;

    let (host, port) = addr
        .rsplit_once(':')
        .ok_or_else(|| format!("connect {addr}: no port"))?;
    let port: u16 = port
        .parse()
        .map_err(|_| format!("connect {addr}: bad port"))?;
    let network = instance_network();
    let address = match host.parse::<std::net::Ipv4Addr>() {
        Ok(ip) => ip.octets(),
        Err(_) => lookup(&network, host).map_err(|e| format!("look up {host}: {e}"))?,
    };
    let socket = create_tcp_socket(IpAddressFamily::Ipv4)
        .map_err(|e| format!("connect {addr}: no socket: {e:?}"))?;
    let target = IpSocketAddress::Ipv4(Ipv4SocketAddress {
        port,
        address: (address[0], address[1], address[2], address[3]),
    });
    socket
        .start_connect(&network, target)
        .map_err(|e| format!("connect {addr}: {e:?}"))?;
    let (_input, output) = loop {
        match socket.finish_connect() {
            Ok(streams) => break streams,
            Err(ErrorCode::WouldBlock) => socket.subscribe().block(),
            Err(e) => return Err(format!("connect {addr}: {e:?}")),
        }
    };
    output
        .blocking_write_and_flush(b"hello\n")
        .map_err(|e| format!("send to {addr}: {e:?}"))?;
    Ok(format!("connected to {addr}"))
}

/// The first IPv4 address of `host`, through `wasi:sockets/ip-name-lookup`.
fn lookup(
    network: &wasip2::sockets::network::Network,
    host: &str,
) -> std::result::Result<[u8; 4], String> {
    use wasip2::sockets::ip_name_lookup::resolve_addresses;
    use wasip2::sockets::network::{ErrorCode, IpAddress};

    let stream = resolve_addresses(network, host).map_err(|e| format!("{e:?}"))?;
    loop {
        match stream.resolve_next_address() {
            Ok(Some(IpAddress::Ipv4((a, b, c, d)))) => return Ok([a, b, c, d]),
            Ok(Some(_)) => continue,
            Ok(None) => return Err("no IPv4 address".to_string()),
            Err(ErrorCode::WouldBlock) => stream.subscribe().block(),
            Err(e) => return Err(format!("{e:?}")),
        }
    }
}

fn spin() -> std::result::Result<String, String> {
    let mut n: u64 = 0;
    loop {
        n = black_box(n.wrapping_add(1));
    }
}

fn alloc() -> std::result::Result<String, String> {
    let mut kept: Vec<Vec<u8>> = Vec::new();
    loop {
        kept.push(black_box(vec![1u8; 1 << 20]));
    }
}

fn print() -> std::result::Result<String, String> {
    let line = format!("{}\n", "x".repeat(64 * 1024 - 1));
    let mut stdout = std::io::stdout();
    loop {
        let _ = stdout.write_all(line.as_bytes());
    }
}

/// Small frames: the engine's call stack runs out first. It never returns:
/// that is the attack.
#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    black_box(recurse(black_box(depth + 1))) + 1
}

/// Each frame keeps a buffer on the stack Rust keeps in linear memory, so
/// that stack runs out first.
#[allow(unconditional_recursion)]
fn recurse_frames(depth: u64) -> u64 {
    let frame = black_box([depth as u8; 256]);
    let deeper = recurse_frames(black_box(depth + 1));
    deeper + frame[(depth % 256) as usize] as u64
}

impl Hook for Hostile {
    fn source(&mut self) -> Result {
        self.phase("source")
    }

    fn pre_install(&mut self) -> Result {
        self.phase("stack pre-install")
    }

    fn install(&mut self) -> Result {
        self.phase("stack install")
    }

    fn post_config(&mut self) -> Result {
        self.phase("stack post-config")
    }

    fn extra(&mut self) -> Result {
        self.phase("stack extra")
    }

    fn unstack(&mut self) -> Result {
        self.phase("unstack")
    }

    fn clean(&mut self) -> Result {
        self.phase("clean")
    }
}

export_hook!(Hostile);
