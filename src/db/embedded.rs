//! A private PostgreSQL cluster run from the locally installed server binaries: the default
//! database of `serve` and of the test suite. Listens on 127.0.0.1 only, on a free port, with a
//! generated password; a cluster left running by a killed process is adopted, never duplicated.

use std::fs;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use tokio::process::Command;

mod standby;

/// Why the local cluster could not be started or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "PostgreSQL's server binaries (initdb, pg_ctl, postgres) were not found on PATH, via \
         `pg_config --bindir`, or under /usr/lib/postgresql/*/bin.\n\
         Either install PostgreSQL (Debian/Ubuntu: `apt-get install postgresql`; macOS: \
         `brew install postgresql`), or point the service at a database with \
         DATABASE_URL=postgres://user:password@host/db, or run everything with `docker compose up`."
    )]
    NotInstalled,
    #[error(
        "running as root, PostgreSQL needs an unprivileged system user named `postgres` \
         (create one with `adduser --system --group postgres`), or set DATABASE_URL"
    )]
    NoUnprivilegedUser,
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Command(String),
    #[error("the local PostgreSQL did not accept connections within {0:?}")]
    NotReady(Duration),
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> ClusterError {
    let context = context.into();
    move |source| ClusterError::Io { context, source }
}

/// The unprivileged account the server runs as when this process is root.
#[derive(Debug, Clone, Copy)]
struct Account {
    uid: u32,
    gid: u32,
}

/// A running local cluster.
#[derive(Debug)]
pub struct LocalCluster {
    bin_dir: PathBuf,
    pgdata: PathBuf,
    port: u16,
    password: String,
    account: Option<Account>,
    launched: bool,
}

const SUPERUSER: &str = "postgres";
const READY_TIMEOUT: Duration = Duration::from_secs(60);

impl LocalCluster {
    /// Starts (or adopts) the cluster kept under `root/postgres`, creating it on first use.
    pub async fn start(root: &Path) -> Result<Self, ClusterError> {
        let bin_dir = find_bin_dir().ok_or(ClusterError::NotInstalled)?;
        let account = if unsafe { libc::geteuid() } == 0 {
            Some(unprivileged_account().ok_or(ClusterError::NoUnprivilegedUser)?)
        } else {
            None
        };
        fs::create_dir_all(root).map_err(io(format!("cannot create {}", root.display())))?;
        let root = root
            .canonicalize()
            .map_err(io(format!("cannot resolve {}", root.display())))?;
        if account.is_some() {
            // The server's account must be able to pass through to its data directory.
            fs::set_permissions(&root, fs::Permissions::from_mode(0o711))
                .map_err(io(format!("cannot set permissions on {}", root.display())))?;
        }
        let _lock = lock(&root.join("cluster.lock")).await?;
        let mut cluster = LocalCluster {
            bin_dir,
            pgdata: root.join("postgres"),
            port: 0,
            password: String::new(),
            account,
            launched: false,
        };
        let password_file = root.join("postgres-password");
        if !cluster.pgdata.join("PG_VERSION").exists() {
            cluster.password = uuid::Uuid::new_v4().simple().to_string();
            cluster.init(&root).await?;
            write_private(&password_file, &cluster.password)?;
        } else {
            cluster.password = fs::read_to_string(&password_file)
                .map_err(io(format!(
                    "the cluster in {} exists but its password file {} cannot be read",
                    cluster.pgdata.display(),
                    password_file.display()
                )))?
                .trim()
                .to_owned();
        }
        match running_port(&cluster.pgdata) {
            Some(port) => {
                tracing::info!(
                    port,
                    "adopting the local PostgreSQL left running by an earlier run"
                );
                cluster.port = port;
            }
            None => {
                cluster.port = free_port()?;
                cluster.launch().await?;
                cluster.launched = true;
            }
        }
        cluster.wait_until_ready().await?;
        cluster.keep_personal_values_out_of_the_log().await?;
        Ok(cluster)
    }

    /// Error reports in the server log without `DETAIL`: a violated key or a failing row would
    /// print the values of a patient's record there. Set with `ALTER SYSTEM`, so that a cluster
    /// adopted from an earlier run gets it too.
    async fn keep_personal_values_out_of_the_log(&self) -> Result<(), ClusterError> {
        use diesel_async::SimpleAsyncConnection;
        let mut conn = super::establish(&self.url("postgres"))
            .await
            .map_err(ClusterError::Command)?;
        for statement in [
            "ALTER SYSTEM SET log_error_verbosity = 'terse'",
            "ALTER SYSTEM SET log_parameter_max_length_on_error = 0",
            "SELECT pg_reload_conf()",
        ] {
            conn.batch_execute(statement)
                .await
                .map_err(|e| ClusterError::Command(format!("cannot configure logging: {e}")))?;
        }
        Ok(())
    }

    /// Whether this process started the server (rather than finding it running).
    pub fn launched_here(&self) -> bool {
        self.launched
    }

    /// Where the server's binaries are (for tools such as `pgbench`).
    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    /// The server's log file.
    pub fn log_file(&self) -> PathBuf {
        self.pgdata.join("server.log")
    }

    /// The port and the superuser's password, for tools that take them apart.
    pub fn credentials(&self) -> (u16, &str) {
        (self.port, &self.password)
    }

    /// Connection URL for `database` on this cluster.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{SUPERUSER}:{}@127.0.0.1:{}/{database}",
            self.password, self.port
        )
    }

    /// Creates `database` unless it exists.
    pub async fn ensure_database(&self, database: &str) -> Result<(), ClusterError> {
        use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
        let mut conn = super::establish(&self.url("postgres"))
            .await
            .map_err(ClusterError::Command)?;
        let exists: i64 =
            diesel::sql_query("SELECT count(*) AS n FROM pg_database WHERE datname = $1")
                .bind::<diesel::sql_types::Text, _>(database)
                .get_result::<Count>(&mut conn)
                .await
                .map_err(|e| ClusterError::Command(format!("cannot list databases: {e}")))?
                .n;
        if exists == 0 {
            conn.batch_execute(&format!("CREATE DATABASE \"{database}\""))
                .await
                .map_err(|e| ClusterError::Command(format!("cannot create database: {e}")))?;
        }
        Ok(())
    }

    /// Starts the server again after [`LocalCluster::stop`], on the same port (clients keep
    /// their URL), and waits until it accepts connections.
    pub async fn restart(&self) -> Result<(), ClusterError> {
        self.launch().await?;
        self.wait_until_ready().await
    }

    /// Stops the server (fast shutdown: open sessions are ended, data is flushed).
    pub async fn stop(&self) -> Result<(), ClusterError> {
        let pgdata = self.pgdata.to_string_lossy().into_owned();
        self.run(
            "pg_ctl",
            &["stop", "-D", &pgdata, "-m", "fast", "-w", "-t", "60", "-s"],
        )
        .await
        .map(|_| ())
    }

    async fn init(&self, root: &Path) -> Result<(), ClusterError> {
        tracing::info!(pgdata = %self.pgdata.display(), "initialising a local PostgreSQL cluster");
        fs::create_dir_all(&self.pgdata).map_err(io("cannot create the data directory"))?;
        fs::set_permissions(&self.pgdata, fs::Permissions::from_mode(0o700))
            .map_err(io("cannot set permissions on the data directory"))?;
        let pwfile = root.join("initdb-password");
        write_private(&pwfile, &self.password)?;
        if let Some(account) = self.account {
            chown(&self.pgdata, account)?;
            chown(&pwfile, account)?;
        }
        let pgdata = self.pgdata.to_string_lossy().into_owned();
        let pwfile_arg = format!("--pwfile={}", pwfile.display());
        let result = self
            .run(
                "initdb",
                &[
                    "-D",
                    &pgdata,
                    "-U",
                    SUPERUSER,
                    "--auth=scram-sha-256",
                    &pwfile_arg,
                    "--encoding=UTF8",
                    "--locale=C",
                ],
            )
            .await;
        let _ = fs::remove_file(&pwfile);
        result.map(|_| ())
    }

    /// Starts the server on its port.
    async fn launch(&self) -> Result<(), ClusterError> {
        let pgdata = self.pgdata.to_string_lossy().into_owned();
        let log = self.log_file().to_string_lossy().into_owned();
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k '' -c timezone=UTC -c max_connections=200",
            self.port
        );
        tracing::info!(port = self.port, "starting the local PostgreSQL");
        self.run(
            "pg_ctl",
            &[
                "start", "-D", &pgdata, "-l", &log, "-o", &options, "-w", "-t", "60", "-s",
            ],
        )
        .await
        .map_err(|error| {
            let tail = fs::read_to_string(&log).unwrap_or_default();
            let tail: Vec<&str> = tail.lines().rev().take(10).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            ClusterError::Command(format!("{error}\nserver log:\n{}", tail.join("\n")))
        })?;
        Ok(())
    }

    async fn wait_until_ready(&self) -> Result<(), ClusterError> {
        let started = Instant::now();
        loop {
            match super::establish(&self.url("postgres")).await {
                Ok(_) => return Ok(()),
                Err(_) if started.elapsed() < READY_TIMEOUT => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(_) => return Err(ClusterError::NotReady(READY_TIMEOUT)),
            }
        }
    }

    /// Runs one of the server's tools as the server's account.
    async fn run(&self, tool: &str, args: &[&str]) -> Result<Output, ClusterError> {
        self.run_with(tool, args, &[]).await
    }

    /// [`Self::run`] with `env` set for the tool.
    async fn run_with(
        &self,
        tool: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Result<Output, ClusterError> {
        let mut command = Command::new(self.bin_dir.join(tool));
        command.args(args).current_dir("/").kill_on_drop(true);
        command.envs(env.iter().copied());
        if let Some(account) = self.account {
            command.uid(account.uid).gid(account.gid);
        }
        let output = command
            .output()
            .await
            .map_err(io(format!("cannot run {tool}")))?;
        if output.status.success() {
            Ok(output)
        } else {
            Err(ClusterError::Command(format!(
                "{tool} failed ({}): {}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout).trim(),
                String::from_utf8_lossy(&output.stderr).trim()
            )))
        }
    }
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// The directory holding initdb, pg_ctl and postgres, searched where installers put them.
fn find_bin_dir() -> Option<PathBuf> {
    let has_tools = |dir: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|t| dir.join(t).is_file())
    };
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    let from_pg_config = std::process::Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    let mut packaged: Vec<PathBuf> = fs::read_dir("/usr/lib/postgresql")
        .map(|dirs| {
            dirs.filter_map(|d| d.ok())
                .map(|d| d.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    // Newest major version first.
    packaged.sort_by_key(|dir| {
        std::cmp::Reverse(
            dir.parent()
                .and_then(|v| v.file_name())
                .and_then(|v| v.to_str())
                .and_then(|v| v.parse::<u32>().ok())
                .unwrap_or(0),
        )
    });
    on_path
        .into_iter()
        .chain(from_pg_config)
        .chain(packaged)
        .find(|dir| has_tools(dir))
        // Links on PATH (`/usr/local/bin/initdb`) lead to the installation, with its other tools.
        .map(|dir| {
            fs::canonicalize(dir.join("postgres"))
                .ok()
                .and_then(|real| real.parent().map(Path::to_path_buf))
                .filter(|real| has_tools(real))
                .unwrap_or(dir)
        })
}

fn unprivileged_account() -> Option<Account> {
    let name = std::ffi::CString::new(SUPERUSER).ok()?;
    // SAFETY: getpwnam returns a pointer into static storage or null; it is read at once.
    let entry = unsafe { libc::getpwnam(name.as_ptr()) };
    if entry.is_null() {
        return None;
    }
    let (uid, gid) = unsafe { ((*entry).pw_uid, (*entry).pw_gid) };
    (uid != 0).then_some(Account { uid, gid })
}

fn chown(path: &Path, account: Account) -> Result<(), ClusterError> {
    std::os::unix::fs::chown(path, Some(account.uid), Some(account.gid)).map_err(io(format!(
        "cannot hand {} to the postgres user",
        path.display()
    )))
}

fn write_private(path: &Path, contents: &str) -> Result<(), ClusterError> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(io(format!("cannot write {}", path.display())))?;
    file.write_all(contents.as_bytes())
        .map_err(io(format!("cannot write {}", path.display())))
}

/// The port of a live server recorded in `postmaster.pid`, if one runs on this data directory.
fn running_port(pgdata: &Path) -> Option<u16> {
    let contents = fs::read_to_string(pgdata.join("postmaster.pid")).ok()?;
    let mut lines = contents.lines();
    let pid: libc::pid_t = lines.next()?.trim().parse().ok()?;
    let port: u16 = lines.nth(2)?.trim().parse().ok()?;
    // SAFETY: signal 0 only checks that the process exists.
    let alive = unsafe { libc::kill(pid, 0) } == 0
        || std::io::Error::last_os_error().kind() == ErrorKind::PermissionDenied;
    alive.then_some(port)
}

fn free_port() -> Result<u16, ClusterError> {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").map_err(io("cannot find a free port"))?;
    listener
        .local_addr()
        .map(|addr| addr.port())
        .map_err(io("cannot find a free port"))
}

/// An exclusive lock on `path`, released when dropped, so two processes never start one cluster twice.
async fn lock(path: &Path) -> Result<fs::File, ClusterError> {
    use std::os::fd::AsRawFd;
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(io(format!("cannot open {}", path.display())))?;
    tokio::task::spawn_blocking(move || {
        // SAFETY: flock on a file descriptor this closure owns.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
            Ok(file)
        } else {
            Err(io("cannot lock the cluster")(
                std::io::Error::last_os_error(),
            ))
        }
    })
    .await
    .map_err(|e| ClusterError::Command(format!("lock task failed: {e}")))?
}
