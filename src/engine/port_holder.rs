//! Telling whether a host port on 127.0.0.1 is free, and who holds it when it is not.

use std::net::{Ipv4Addr, TcpListener};

use crate::engine::client::Engine;

/// Whether `port` can be bound on 127.0.0.1 right now.
pub fn port_is_free(port: u16) -> bool {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
}

/// Names who holds `port`: a running container publishing it, else a local process that
/// listens on it (found through /proc, which only shows processes we may inspect).
pub async fn port_holder(engine: &Engine, port: u16) -> Option<String> {
    if let Ok(names) = engine.containers_publishing(port).await {
        if let Some(name) = names.into_iter().next() {
            return Some(format!("container `{name}`"));
        }
    }
    listening_process(port)
}

/// Finds the process listening on TCP `port` through /proc/net/tcp{,6} and /proc/*/fd.
fn listening_process(port: u16) -> Option<String> {
    let inodes: Vec<String> = ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .flat_map(|table| listening_inodes(&table, port))
        .collect();
    if inodes.is_empty() {
        return None;
    }
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            let Ok(target) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let target = target.to_string_lossy();
            if inodes
                .iter()
                .any(|inode| target == format!("socket:[{inode}]"))
            {
                let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
                return Some(format!("process `{}` (pid {pid})", comm.trim()));
            }
        }
    }
    None
}

/// Inodes of sockets in LISTEN state (0A) on `port` in a /proc/net/tcp table.
fn listening_inodes(table: &str, port: u16) -> Vec<String> {
    let wanted = format!("{port:04X}");
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let local = fields.get(1)?;
            let state = fields.get(3)?;
            let inode = fields.get(9)?;
            let (_, local_port) = local.rsplit_once(':')?;
            (local_port == wanted && *state == "0A").then(|| inode.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_listening_sockets_from_proc_net_tcp() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0\n   1: 0100007F:1538 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 4343 1 0000000000000000 100 0 0 10 0\n";
        assert_eq!(listening_inodes(table, 5432), vec!["4242".to_string()]);
        assert!(listening_inodes(table, 5433).is_empty());
    }

    #[test]
    fn finds_our_own_listener() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        assert!(!port_is_free(port));
        let holder = listening_process(port).expect("own process is visible");
        assert!(
            holder.contains(&format!("pid {}", std::process::id())),
            "{holder}"
        );
    }
}
