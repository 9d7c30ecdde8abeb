//! Test harness: starts identity, records and audit in-process on pre-bound `127.0.0.1:0`
//! listeners, each with a fresh database — SQLite files in a temporary directory, or fresh
//! PostgreSQL databases when `DANCU_TEST_POSTGRES_URL` is set (e.g.
//! `postgres://postgres@127.0.0.1:5432/postgres`).

use dancu_kit::config::{Config, LogFormat, ServiceKind};
use sea_orm::{ConnectionTrait, Database};
use std::collections::HashMap;
use std::sync::Once;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Password of the bootstrap administrator in test clusters.
pub const ADMIN_PASSWORD: &str = "test-admin-password";
/// Environment variable naming the PostgreSQL server to test against.
pub const POSTGRES_ENV: &str = "DANCU_TEST_POSTGRES_URL";

/// Installs logging and tracing once per test binary, without exporting spans (tests that
/// inspect spans install their own exporter in their own binary).
pub fn init_test_telemetry() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = dancu_kit::telemetry::init(
            "dancu-test",
            LogFormat::Pretty,
            "warn",
            dancu_kit::telemetry::SpanExport::None,
        )
        .map(std::mem::forget);
    });
}

struct Running {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// Three services running in this process.
pub struct Cluster {
    /// The configuration every service was started with.
    pub config: Config,
    running: HashMap<ServiceKind, Running>,
    /// PostgreSQL server URL and the databases created for this cluster, dropped on
    /// shutdown.
    postgres: Option<(String, Vec<String>)>,
    _data_dir: tempfile::TempDir,
}

/// A database URL per service: fresh SQLite files or fresh PostgreSQL databases.
async fn fresh_database_urls(
    data_dir: &std::path::Path,
) -> (HashMap<ServiceKind, String>, Option<(String, Vec<String>)>) {
    let mut urls = HashMap::new();
    let mut postgres = None;
    match std::env::var(POSTGRES_ENV).ok().filter(|v| !v.is_empty()) {
        None => {
            for kind in ServiceKind::ALL {
                let path = data_dir.join(format!("{}.db", kind.name()));
                urls.insert(kind, format!("sqlite://{}?mode=rwc", path.display()));
            }
        }
        Some(server) => {
            let admin = Database::connect(server.as_str())
                .await
                .expect("connect to the test PostgreSQL server");
            let base = server_base(&server);
            let mut names = Vec::new();
            for kind in ServiceKind::ALL {
                let name = format!(
                    "dancu_test_{}_{}",
                    kind.name(),
                    uuid::Uuid::new_v4().simple()
                );
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create a fresh test database");
                urls.insert(kind, format!("{base}/{name}"));
                names.push(name);
            }
            postgres = Some((server, names));
        }
    }
    (urls, postgres)
}

/// `postgres://user@host:port/db?x` → `postgres://user@host:port`.
fn server_base(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    format!("{scheme}://{authority}")
}

impl Cluster {
    /// Starts all three services with fresh databases.
    pub async fn start() -> Cluster {
        Self::start_with(|_| {}).await
    }

    /// Starts all three services with fresh databases, after `configure` adjusted the
    /// configuration.
    pub async fn start_with(configure: impl FnOnce(&mut Config)) -> Cluster {
        init_test_telemetry();
        let data_dir = tempfile::tempdir().expect("temporary data directory");
        let (urls, postgres) = fresh_database_urls(data_dir.path()).await;
        let mut listeners = HashMap::new();
        let mut config = Config {
            data_dir: data_dir.path().to_path_buf(),
            bootstrap_admin_password: Some(ADMIN_PASSWORD.to_owned()),
            service_secret: Some(dancu_kit::random_secret()),
            log_format: LogFormat::Pretty,
            log_level: "warn".to_owned(),
            ..Config::default()
        };
        for kind in ServiceKind::ALL {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let address = listener.local_addr().expect("bound address");
            let settings = match kind {
                ServiceKind::Identity => &mut config.identity,
                ServiceKind::Records => &mut config.records,
                ServiceKind::Audit => &mut config.audit,
            };
            settings.listen = address;
            settings.endpoint = format!("http://{address}");
            settings.database_url = Some(urls[&kind].clone());
            settings.db_max_connections = 4;
            listeners.insert(kind, listener);
        }
        configure(&mut config);
        let mut cluster = Cluster {
            config,
            running: HashMap::new(),
            postgres,
            _data_dir: data_dir,
        };
        // Identity first: it creates the accounts the others log in with.
        for kind in [
            ServiceKind::Identity,
            ServiceKind::Audit,
            ServiceKind::Records,
        ] {
            let listener = listeners.remove(&kind).expect("listener");
            cluster.launch(kind, listener);
        }
        cluster.wait_until_serving().await;
        cluster
    }

    fn launch(&mut self, kind: ServiceKind, listener: TcpListener) {
        let (stop, mut stopped) = watch::channel(false);
        let config = self.config.clone();
        let task = tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.wait_for(|s| *s).await;
            };
            let result = match kind {
                ServiceKind::Identity => dancu_identity::run(&config, listener, shutdown)
                    .await
                    .map_err(|e| e.to_string()),
                ServiceKind::Records => dancu_records::run(&config, listener, shutdown)
                    .await
                    .map_err(|e| e.to_string()),
                ServiceKind::Audit => dancu_audit::run(&config, listener, shutdown)
                    .await
                    .map_err(|e| e.to_string()),
            };
            if let Err(error) = result {
                panic!("{} failed: {error}", kind.name());
            }
        });
        self.running.insert(kind, Running { stop, task });
    }

    /// Waits until every running service answers its health check with SERVING.
    pub async fn wait_until_serving(&self) {
        use tonic_health::pb::health_check_response::ServingStatus;
        for kind in self.running.keys() {
            let endpoint = self.endpoint(*kind);
            let mut ready = false;
            for _ in 0..200 {
                let mut client =
                    tonic_health::pb::health_client::HealthClient::new(channel(&endpoint));
                if let Ok(response) = client
                    .check(tonic_health::pb::HealthCheckRequest::default())
                    .await
                    && response.into_inner().status == ServingStatus::Serving as i32
                {
                    ready = true;
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(25)).await;
            }
            assert!(ready, "{} did not become ready", kind.name());
        }
    }

    /// The endpoint (`http://127.0.0.1:port`) of a service.
    pub fn endpoint(&self, kind: ServiceKind) -> String {
        self.config.service(kind).endpoint.clone()
    }

    /// Stops one service gracefully and waits for it.
    pub async fn stop(&mut self, kind: ServiceKind) {
        if let Some(running) = self.running.remove(&kind) {
            let _ = running.stop.send(true);
            running.task.await.expect("service task ended cleanly");
        }
    }

    /// Restarts a stopped service on its old port, with its old database.
    pub async fn restart(&mut self, kind: ServiceKind) {
        let address = self.config.service(kind).listen;
        let listener = TcpListener::bind(address).await.expect("rebind old port");
        self.launch(kind, listener);
        self.wait_until_serving().await;
    }

    /// Stops every service and drops the PostgreSQL databases it created.
    pub async fn shutdown(mut self) {
        for kind in [
            ServiceKind::Records,
            ServiceKind::Identity,
            ServiceKind::Audit,
        ] {
            self.stop(kind).await;
        }
        if let Some((server, names)) = self.postgres.take() {
            let admin = Database::connect(server.as_str())
                .await
                .expect("connect to the test PostgreSQL server");
            for name in names {
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
                    .expect("drop the test database");
            }
        }
    }
}

/// Audit-log helpers: log clients, checkpoints, direct database access.
pub mod audit;

/// Connects a traced channel to a service.
pub fn channel(endpoint: &str) -> dancu_kit::client::TracedChannel {
    dancu_kit::client::traced_channel(endpoint).expect("valid endpoint")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_base_strips_database() {
        assert_eq!(
            server_base("postgres://postgres@127.0.0.1:5432/postgres"),
            "postgres://postgres@127.0.0.1:5432"
        );
        assert_eq!(server_base("postgres://h:1"), "postgres://h:1");
    }
}

pub mod access;
pub mod collector;
pub mod population;
pub mod records;
pub mod register;

/// Typed clients and request helpers for tests.
pub mod api {
    use super::{ADMIN_PASSWORD, Cluster, channel};
    use dancu_kit::client::TracedChannel;
    use dancu_kit::config::ServiceKind;
    use dancu_proto::audit::v1::audit_service_client::AuditServiceClient;
    use dancu_proto::audit::v1::{AuditEvent, ListEventsRequest, ListEventsResponse};
    use dancu_proto::common::v1::{Date, Sex};
    use dancu_proto::identity::v1::auth_service_client::AuthServiceClient;
    use dancu_proto::identity::v1::identity_service_client::IdentityServiceClient;
    use dancu_proto::identity::v1::{
        Citizen, GetCitizenRequest, LoginRequest, RegisterCitizenRequest,
    };
    use dancu_proto::records::v1::records_service_client::RecordsServiceClient;
    use dancu_proto::records::v1::{
        Classification, CreateSubjectRecordRequest, SourceKind, SourceReference,
    };

    impl Cluster {
        /// Client of identity's register.
        pub fn identity(&self) -> IdentityServiceClient<TracedChannel> {
            IdentityServiceClient::new(channel(&self.endpoint(ServiceKind::Identity)))
        }

        /// Client of identity's login.
        pub fn auth(&self) -> AuthServiceClient<TracedChannel> {
            AuthServiceClient::new(channel(&self.endpoint(ServiceKind::Identity)))
        }

        /// Client of the records service.
        pub fn records(&self) -> RecordsServiceClient<TracedChannel> {
            RecordsServiceClient::new(channel(&self.endpoint(ServiceKind::Records)))
        }

        /// Client of the audit service.
        pub fn audit(&self) -> AuditServiceClient<TracedChannel> {
            AuditServiceClient::new(channel(&self.endpoint(ServiceKind::Audit)))
        }

        /// Registers [`sample_citizen`] under `personal_id` (purpose `residence_management`).
        pub async fn register_sample(
            &self,
            token: &str,
            personal_id: &str,
        ) -> Result<Citizen, tonic::Status> {
            self.identity()
                .register_citizen(request(
                    RegisterCitizenRequest {
                        citizen: Some(sample_citizen(personal_id)),
                        ..Default::default()
                    },
                    token,
                    Some("residence_management"),
                    None,
                ))
                .await
                .map(tonic::Response::into_inner)
        }

        /// Looks a citizen up (purpose `residence_management`).
        pub async fn get_citizen(
            &self,
            token: &str,
            personal_id: &str,
        ) -> Result<Citizen, tonic::Status> {
            self.identity()
                .get_citizen(request(
                    GetCitizenRequest {
                        personal_id: personal_id.to_owned(),
                    },
                    token,
                    Some("residence_management"),
                    None,
                ))
                .await
                .map(tonic::Response::into_inner)
        }

        /// One page of `ListEvents`.
        pub async fn list_events(
            &self,
            token: &str,
            filter: ListEventsRequest,
        ) -> Result<ListEventsResponse, tonic::Status> {
            self.audit()
                .list_events(request(filter, token, None, None))
                .await
                .map(tonic::Response::into_inner)
        }

        /// The audit events about `subject` (a personal ID), waiting up to twenty seconds for
        /// at least `at_least` of them (events are shipped in-call, but a retried shipment
        /// arrives through the relay).
        pub async fn events_about(
            &self,
            token: &str,
            subject: &str,
            at_least: usize,
        ) -> Vec<AuditEvent> {
            let filter = ListEventsRequest {
                subject: subject.to_owned(),
                ..Default::default()
            };
            self.events_matching(token, filter, |_| true, at_least)
                .await
        }

        /// The audit events of `filter` that `keep` keeps, waiting up to twenty seconds for
        /// at least `at_least` of them.
        pub async fn events_matching(
            &self,
            token: &str,
            filter: ListEventsRequest,
            keep: impl Fn(&AuditEvent) -> bool,
            at_least: usize,
        ) -> Vec<AuditEvent> {
            let mut events = Vec::new();
            for _ in 0..400 {
                events = self
                    .list_events(token, filter.clone())
                    .await
                    .expect("list events")
                    .events
                    .into_iter()
                    .filter(|e| keep(e))
                    .collect();
                if events.len() >= at_least {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            events
        }

        /// Logs in as the bootstrap administrator; returns the token and officer id.
        pub async fn admin_login(&self) -> (String, String) {
            let response = self
                .auth()
                .login(LoginRequest {
                    username: "admin".to_owned(),
                    password: ADMIN_PASSWORD.to_owned(),
                })
                .await
                .expect("admin login")
                .into_inner();
            (response.access_token, response.officer_id)
        }
    }

    /// A request carrying a bearer token and, optionally, a purpose and case reference.
    pub fn request<T>(
        message: T,
        token: &str,
        purpose: Option<&str>,
        case: Option<&str>,
    ) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        let metadata = request.metadata_mut();
        metadata.insert(
            "authorization",
            format!("Bearer {token}").parse().expect("ascii token"),
        );
        if let Some(purpose) = purpose {
            metadata.insert("x-dancu-purpose", purpose.parse().expect("ascii purpose"));
        }
        if let Some(case) = case {
            metadata.insert("x-dancu-case", case.parse().expect("ascii case"));
        }
        request
    }

    /// Every acknowledgement of an opened import stream (identity's `ImportCitizens` or
    /// `ImportForeigners`, records' `ImportSubjects`) until it ends, or the status it was
    /// refused or ended with.
    pub async fn acknowledgements(
        opened: Result<
            tonic::Response<tonic::Streaming<dancu_proto::common::v1::ImportBatchResult>>,
            tonic::Status,
        >,
    ) -> Result<Vec<dancu_proto::common::v1::ImportBatchResult>, tonic::Status> {
        let mut responses = opened?.into_inner();
        let mut results = Vec::new();
        while let Some(result) = responses.message().await? {
            results.push(result);
        }
        Ok(results)
    }

    /// A valid citizen: personal ID born in Hà Nội (001), male, 1990.
    pub fn sample_citizen(personal_id: &str) -> Citizen {
        Citizen {
            personal_id: personal_id.to_owned(),
            full_name: "Nguyễn Văn An".to_owned(),
            sex: Sex::Male as i32,
            date_of_birth: Some(Date {
                year: 1990,
                month: 5,
                day: 17,
            }),
            place_of_birth: "Phường Ba Đình, Hà Nội".to_owned(),
            ..Citizen::default()
        }
    }

    /// A valid subject-record request for `personal_id`.
    pub fn sample_record(personal_id: &str) -> CreateSubjectRecordRequest {
        CreateSubjectRecordRequest {
            personal_id: personal_id.to_owned(),
            classification: Classification::PostRehabilitation as i32,
            source: Some(SourceReference {
                kind: SourceKind::JudgmentEnforcement as i32,
                reference: "123/QD-THA".to_owned(),
                issuing_unit: "CAHN".to_owned(),
            }),
        }
    }
}

/// An identity store on a fresh SQLite file (a pool of `max_connections`, a 64 MiB writer
/// cache), with the temporary directory that holds it (the file goes with it).
pub async fn identity_store_on_file(
    max_connections: u32,
) -> (tempfile::TempDir, dancu_identity::store::IdentityStore) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("identity.db").display()
    );
    let store = dancu_identity::store::IdentityStore::open(&url, max_connections, 64)
        .await
        .expect("store");
    (dir, store)
}

/// A store row of a citizen (the same person under each personal ID) with a permanent
/// residence in commune `perm_commune` of province 01, for tests that write the store
/// directly.
pub fn citizen_row(personal_id: &str, perm_commune: &str) -> dancu_identity::store::CitizenRow {
    dancu_identity::store::CitizenRow {
        personal_id: personal_id.to_owned(),
        full_name: "Nguyễn Văn An".to_owned(),
        name_key: "nguyen van an".to_owned(),
        sex: "male".to_owned(),
        birth_date: "1990-03-14".to_owned(),
        birth_year: 1990,
        life_status: "alive".to_owned(),
        perm_commune: perm_commune.to_owned(),
        perm_province: "01".to_owned(),
        version: 1,
        ..Default::default()
    }
}
