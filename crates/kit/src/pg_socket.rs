//! `TCP_NODELAY` on PostgreSQL connections.
//!
//! sqlx 0.9.0 opens its TCP connections without `TCP_NODELAY` (a regression against 0.8,
//! launchbadge/sqlx#4335; the fix, #4336, is merged but not released) and gives no access to
//! the socket. Without it, Nagle's algorithm holds back the last part of a message that
//! spans several TCP segments until the server acknowledges the earlier ones, and the
//! server delays that acknowledgement by up to 40 ms. Every statement larger than a segment
//! can then wait 40 ms: measured on loopback, a bulk import of citizens into PostgreSQL ran
//! 4.6 times faster with delayed acknowledgements switched off (`docs/benchmarks.md`).
//!
//! No crate sets an option on a socket that another library owns, so this is written by
//! hand: right after sqlx opens a connection, the server tells its client port
//! (`inet_client_port()`); the kernel's socket table (`/proc/net/tcp`, `/proc/net/tcp6`)
//! gives the socket with that local port, and `/proc/self/fd` the descriptor of that socket
//! in this process, on which `TCP_NODELAY` is set. Where any step finds nothing (a Unix
//! socket, a proxy that changes the port, a system without `/proc`), the connection is left
//! as sqlx made it. Remove this module when a sqlx release sets the option itself.

use sea_orm::sqlx::PgConnection;

/// Sets `TCP_NODELAY` on the socket of `conn`, a connection just opened. Returns whether it
/// did; `Ok(false)` when the socket could not be found (see the module documentation).
pub async fn set_nodelay(conn: &mut PgConnection) -> Result<bool, sea_orm::sqlx::Error> {
    let Some(fd) = own_socket(conn).await? else {
        return Ok(false);
    };
    Ok(with_socket(conn, fd, |socket| socket.set_tcp_nodelay(true)).is_ok())
}

/// Whether `TCP_NODELAY` is set on the socket of `conn`; `None` when the socket could not be
/// found.
pub async fn nodelay(conn: &mut PgConnection) -> Result<Option<bool>, sea_orm::sqlx::Error> {
    let Some(fd) = own_socket(conn).await? else {
        return Ok(None);
    };
    Ok(with_socket(conn, fd, |socket| socket.tcp_nodelay()).ok())
}

/// The descriptor, in this process, of the TCP socket of `conn`.
async fn own_socket(conn: &mut PgConnection) -> Result<Option<i32>, sea_orm::sqlx::Error> {
    let port: Option<i32> = sea_orm::sqlx::query_scalar("SELECT inet_client_port()")
        .fetch_one(&mut *conn)
        .await?;
    let Some(port) = port.and_then(|p| u16::try_from(p).ok()) else {
        return Ok(None);
    };
    Ok(descriptor_of(&socket_inodes(port)))
}

/// Runs `f` on descriptor `fd`, the socket of `conn`.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn with_socket<R>(
    _conn: &mut PgConnection,
    fd: i32,
    f: impl FnOnce(socket2::SockRef<'_>) -> std::io::Result<R>,
) -> std::io::Result<R> {
    // SAFETY: `fd` is the socket of `conn` (found by its local port, then by its inode among
    // this process's descriptors). `conn` is borrowed mutably for this whole call, so no one
    // can close it, and the descriptor stays open while it is borrowed here.
    let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
    f(socket2::SockRef::from(&fd))
}

#[cfg(not(target_os = "linux"))]
fn with_socket<R>(
    _conn: &mut PgConnection,
    _fd: i32,
    _f: impl FnOnce(socket2::SockRef<'_>) -> std::io::Result<R>,
) -> std::io::Result<R> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// The inodes of the established TCP sockets whose local port is `port`, from the kernel's
/// socket tables. Usually one; another process may hold one on another local address.
fn socket_inodes(port: u16) -> Vec<u64> {
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|table| std::fs::read_to_string(table).ok())
        .flat_map(|text| inodes_in_table(&text, port))
        .collect()
}

/// The inodes of the established sockets with local port `port` in a `/proc/net/tcp` table.
fn inodes_in_table(table: &str, port: u16) -> Vec<u64> {
    /// State `TCP_ESTABLISHED` in the `st` column.
    const ESTABLISHED: &str = "01";
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let local_port = fields.get(1)?.rsplit_once(':')?.1;
            let matches =
                u16::from_str_radix(local_port, 16).ok()? == port && *fields.get(3)? == ESTABLISHED;
            matches.then(|| fields.get(9)?.parse().ok()).flatten()
        })
        .collect()
}

/// The descriptor of this process that refers to one of the sockets `inodes`.
fn descriptor_of(inodes: &[u64]) -> Option<i32> {
    if inodes.is_empty() {
        return None;
    }
    let targets: Vec<String> = inodes.iter().map(|i| format!("socket:[{i}]")).collect();
    std::fs::read_dir("/proc/self/fd")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let link = std::fs::read_link(entry.path()).ok()?;
            let link = link.to_str()?;
            targets
                .iter()
                .any(|t| t == link)
                .then(|| entry.file_name().to_str()?.parse().ok())
                .flatten()
        })
}

#[cfg(test)]
mod tests {
    use super::inodes_in_table;

    const TABLE: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000   106        0 5818 1 0000000000000000 100 0 0 10 0
   1: 0100007F:D431 0100007F:1538 01 00000000:00000000 00:00000000 00000000     0        0 7001 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:1538 0100007F:D431 01 00000000:00000000 00:00000000 00000000   106        0 7002 1 0000000000000000 20 4 30 10 -1
   3: 0200007F:D431 0100007F:0050 01 00000000:00000000 00:00000000 00000000     0        0 7003 1 0000000000000000 20 4 30 10 -1
";

    #[test]
    fn finds_the_established_sockets_by_their_local_port() {
        // 0xD431 = 54321: the client side, not the server side that talks to it, and a
        // socket on another local address with the same port (another process's, perhaps).
        assert_eq!(inodes_in_table(TABLE, 54321), [7001, 7003]);
        // 0x1538 = 5432 is listening (0A) on one line and established on another.
        assert_eq!(inodes_in_table(TABLE, 5432), [7002]);
        assert!(inodes_in_table(TABLE, 1).is_empty());
        assert!(inodes_in_table("header only\n", 54321).is_empty());
    }
}
