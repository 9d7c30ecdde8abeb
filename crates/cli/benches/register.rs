//! Register queries on a large population: seeds an identity database with N citizens
//! (default 1,000,000), prints the query plans of lookup, name search and resident lists,
//! then measures `GetCitizen` and `SearchCitizens` (name + year of birth) through gRPC on
//! the running identity and audit services, one call at a time, against a bare tonic health
//! check measured in the same run.
//!
//! Run: `cargo bench -p dancu --bench register` (SQLite in a temporary directory), or with
//! `DANCU_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres` for PostgreSQL (a
//! fresh database is created and dropped). `DANCU_BENCH_CITIZENS` and `DANCU_BENCH_CALLS`
//! change the population and the number of measured calls.
//!
//! Seeding writes rows straight into the identity store before the service starts: it is
//! set-up, not what is measured (bulk import through the API is its own benchmark).

use dancu_domain::{AreaTable, Commune, province::provinces};
use dancu_identity::store::{CitizenRow, CitizenSearch, IdentityStore};
use dancu_kit::config::{Config, LogFormat, ServiceKind};
use dancu_proto::identity::v1 as pb;
use dancu_proto::identity::v1::auth_service_client::AuthServiceClient;
use dancu_proto::identity::v1::identity_service_client::IdentityServiceClient;
use hdrhistogram::Histogram;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::ConnectionTrait;
use std::time::Instant;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tonic::transport::Channel;

/// The allocator of the bench, as in the `dancu` binary (see `mimalloc` in the workspace manifest).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ADMIN_PASSWORD: &str = "bench-admin-password";
/// Rows per INSERT statement and statements per transaction while seeding.
const ROWS_PER_STATEMENT: usize = 500;
const STATEMENTS_PER_TXN: usize = 20;

/// Surnames with rough frequencies (per 1,000 people).
const SURNAMES: [(&str, u32); 14] = [
    ("Nguyễn", 380),
    ("Trần", 110),
    ("Lê", 95),
    ("Phạm", 70),
    ("Hoàng", 50),
    ("Huỳnh", 40),
    ("Phan", 45),
    ("Vũ", 40),
    ("Võ", 35),
    ("Đặng", 25),
    ("Bùi", 25),
    ("Đỗ", 25),
    ("Hồ", 20),
    ("Ngô", 20),
];
const MIDDLE_MALE: [&str; 6] = ["Văn", "Hữu", "Đức", "Minh", "Quang", "Công"];
const MIDDLE_FEMALE: [&str; 6] = ["Thị", "Ngọc", "Thu", "Thanh", "Mai", "Kim"];
const GIVEN_MALE: [&str; 20] = [
    "An", "Bình", "Cường", "Dũng", "Đạt", "Hải", "Hùng", "Huy", "Khánh", "Long", "Minh", "Nam",
    "Phong", "Quân", "Sơn", "Tâm", "Thành", "Tuấn", "Việt", "Vinh",
];
const GIVEN_FEMALE: [&str; 20] = [
    "Anh", "Bích", "Châu", "Dung", "Giang", "Hà", "Hạnh", "Hoa", "Hương", "Lan", "Linh", "Loan",
    "Mai", "Ngân", "Nhung", "Phương", "Quỳnh", "Thảo", "Trang", "Yến",
];

fn pick_surname(rng: &mut StdRng) -> &'static str {
    let total: u32 = SURNAMES.iter().map(|(_, w)| w).sum();
    let mut n = rng.gen_range(0..total);
    for (name, weight) in SURNAMES {
        if n < weight {
            return name;
        }
        n -= weight;
    }
    SURNAMES[0].0
}

/// The `i`-th synthetic citizen: unique personal ID (province code, century/sex digit,
/// year, and `i` spread over the six random digits), a name, and a permanent commune.
fn citizen(i: u64, rng: &mut StdRng, communes: &[&Commune]) -> CitizenRow {
    let province_codes = provinces();
    let province = &province_codes[(i % province_codes.len() as u64) as usize];
    let male = rng.gen_bool(0.5);
    let year: i32 = rng.gen_range(1930..=2024);
    let century_digit = match (year >= 2000, male) {
        (false, true) => 0,
        (false, false) => 1,
        (true, true) => 2,
        (true, false) => 3,
    };
    let serial = i / province_codes.len() as u64;
    let personal_id = format!(
        "{}{}{:02}{:06}",
        province.code,
        century_digit,
        year % 100,
        serial % 1_000_000
    );
    let (middle, given) = if male {
        (
            MIDDLE_MALE[rng.gen_range(0..6)],
            GIVEN_MALE[rng.gen_range(0..20)],
        )
    } else {
        (
            MIDDLE_FEMALE[rng.gen_range(0..6)],
            GIVEN_FEMALE[rng.gen_range(0..20)],
        )
    };
    let full_name = format!("{} {middle} {given}", pick_surname(rng));
    let commune = communes[rng.gen_range(0..communes.len())];
    let month = rng.gen_range(1..=12);
    let day = rng.gen_range(1..=28);
    CitizenRow {
        name_key: dancu_domain::name_search_key(&full_name),
        personal_id,
        full_name,
        sex: if male { "male" } else { "female" }.to_owned(),
        birth_date: format!("{year:04}-{month:02}-{day:02}"),
        birth_year: year,
        nationality: "VNM".to_owned(),
        life_status: "alive".to_owned(),
        created_by: "bench".to_owned(),
        updated_by: "bench".to_owned(),
        created_us: 1,
        updated_us: 1,
        version: 1,
        perm_commune: commune.code.clone(),
        perm_province: commune.province_code.clone(),
        ..CitizenRow::default()
    }
}

async fn seed(store: &IdentityStore, count: u64) -> anyhow::Result<Vec<(String, String, i32)>> {
    let communes: Vec<&Commune> = AreaTable::builtin().communes().collect();
    let mut rng = StdRng::seed_from_u64(7);
    let mut samples = Vec::new();
    let started = Instant::now();
    let mut i = 0;
    while i < count {
        let txn = store.begin_write().await?;
        for _ in 0..STATEMENTS_PER_TXN {
            let n = ROWS_PER_STATEMENT.min((count - i) as usize);
            if n == 0 {
                break;
            }
            let rows: Vec<CitizenRow> = (0..n as u64)
                .map(|k| citizen(i + k, &mut rng, &communes))
                .collect();
            if i % 500 == 0 && samples.len() < 100_000 {
                let r = &rows[0];
                samples.push((r.personal_id.clone(), r.full_name.clone(), r.birth_year));
            }
            store
                .insert_citizens(&txn, rows)
                .await
                .map_err(|e| anyhow::anyhow!("seed insert: {e}"))?;
            i += n as u64;
        }
        txn.commit().await?;
    }
    let analyze = match store.connection().get_database_backend() {
        sea_orm::DatabaseBackend::Sqlite => "ANALYZE",
        _ => "ANALYZE citizens",
    };
    store.connection().execute_unprepared(analyze).await?;
    println!(
        "seeded {count} citizens in {:.1} s ({:.0} rows/s)",
        started.elapsed().as_secs_f64(),
        count as f64 / started.elapsed().as_secs_f64()
    );
    Ok(samples)
}

fn request<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("ascii token"),
    );
    request.metadata_mut().insert(
        "x-dancu-purpose",
        "residence_management".parse().expect("ascii"),
    );
    request
}

fn report(name: &str, histogram: &Histogram<u64>) {
    println!(
        "{name:<36} p50 {:>7.3} ms  p90 {:>7.3} ms  p99 {:>7.3} ms  (n = {})",
        histogram.value_at_quantile(0.50) as f64 / 1000.0,
        histogram.value_at_quantile(0.90) as f64 / 1000.0,
        histogram.value_at_quantile(0.99) as f64 / 1000.0,
        histogram.len()
    );
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let count: u64 = std::env::var("DANCU_BENCH_CITIZENS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let calls: usize = std::env::var("DANCU_BENCH_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let data_dir = tempfile::tempdir()?;
    let postgres = std::env::var("DANCU_BENCH_POSTGRES_URL").ok();
    let mut config = Config {
        data_dir: data_dir.path().to_path_buf(),
        bootstrap_admin_password: Some(ADMIN_PASSWORD.to_owned()),
        service_secret: Some(dancu_kit::random_secret()),
        log_format: LogFormat::Pretty,
        log_level: "error".to_owned(),
        ..Config::default()
    };
    let mut dropped_database = None;
    if let Some(server) = &postgres {
        let admin = sea_orm::Database::connect(server.as_str()).await?;
        let name = format!("dancu_bench_{}", std::process::id());
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await?;
        let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b);
        config.identity.database_url = Some(format!("{base}/{name}"));
        dropped_database = Some((admin, name));
    }
    let mut listeners = Vec::new();
    for kind in [ServiceKind::Identity, ServiceKind::Audit] {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let settings = match kind {
            ServiceKind::Identity => &mut config.identity,
            _ => &mut config.audit,
        };
        settings.listen = address;
        settings.endpoint = format!("http://{address}");
        listeners.push((kind, listener));
    }
    println!(
        "backend: {}; population: {count}",
        if postgres.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );

    let store = IdentityStore::open(
        &config.database_url(ServiceKind::Identity),
        config.identity.db_max_connections,
        config.identity.db_writer_cache_mib,
    )
    .await?;
    let samples = seed(&store, count).await?;
    let today = "2026-11-29";
    let (_, name, year) = &samples[samples.len() / 2];
    let search = CitizenSearch {
        name_key: dancu_domain::name_search_key(name),
        birth_year: Some(*year),
        ..CitizenSearch::default()
    };
    println!("\nquery plan, GetCitizen:");
    for line in store.explain_get(&samples[0].0).await? {
        println!("  {line}");
    }
    println!("query plan, SearchCitizens (name + year of birth):");
    for line in store.explain_search(&search, today).await? {
        println!("  {line}");
    }
    println!("query plan, SearchCitizens (name only):");
    let name_only = CitizenSearch {
        birth_year: None,
        ..search.clone()
    };
    for line in store.explain_search(&name_only, today).await? {
        println!("  {line}");
    }
    println!("query plan, ListResidents:");
    for line in store.explain_residents("01001", today).await? {
        println!("  {line}");
    }
    drop(store);

    let (stop, stopped) = watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    for (kind, listener) in listeners {
        let config = config.clone();
        let mut stopped = stopped.clone();
        tasks.spawn(async move {
            let shutdown = async move {
                let _ = stopped.wait_for(|s| *s).await;
            };
            match kind {
                ServiceKind::Identity => dancu_identity::run(&config, listener, shutdown).await,
                _ => dancu_audit::run(&config, listener, shutdown).await,
            }
        });
    }
    let channel = Channel::from_shared(config.identity.endpoint.clone())?.connect_lazy();
    let mut token = None;
    for _ in 0..200 {
        let login = AuthServiceClient::new(channel.clone())
            .login(pb::LoginRequest {
                username: "admin".to_owned(),
                password: ADMIN_PASSWORD.to_owned(),
            })
            .await;
        if let Ok(response) = login {
            token = Some(response.into_inner().access_token);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let token = token.ok_or_else(|| anyhow::anyhow!("identity did not start"))?;
    let mut client = IdentityServiceClient::new(channel.clone());
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());

    let mut baseline = Histogram::<u64>::new(3)?;
    let mut get = Histogram::<u64>::new(3)?;
    let mut by_name_year = Histogram::<u64>::new(3)?;
    let mut found = 0usize;
    for round in 0..calls + 100 {
        let (id, name, year) = &samples[round % samples.len()];
        let started = Instant::now();
        health
            .check(tonic_health::pb::HealthCheckRequest::default())
            .await?;
        let baseline_us = started.elapsed().as_micros() as u64;
        let started = Instant::now();
        client
            .get_citizen(request(
                pb::GetCitizenRequest {
                    personal_id: id.clone(),
                },
                &token,
            ))
            .await?;
        let get_us = started.elapsed().as_micros() as u64;
        let started = Instant::now();
        let response = client
            .search_citizens(request(
                pb::SearchCitizensRequest {
                    full_name: name.clone(),
                    birth_year: *year,
                    ..Default::default()
                },
                &token,
            ))
            .await?
            .into_inner();
        let search_us = started.elapsed().as_micros() as u64;
        if round >= 100 {
            baseline.record(baseline_us)?;
            get.record(get_us)?;
            by_name_year.record(search_us)?;
            found += response.citizens.len();
        }
    }
    println!("\nsequential calls (one in flight), after 100 warm-up rounds:");
    report("baseline: bare tonic health check", &baseline);
    report("GetCitizen", &get);
    report("SearchCitizens (name + year)", &by_name_year);
    println!(
        "search returned {:.1} citizens on average; median ratio search / baseline = {:.2}",
        found as f64 / calls as f64,
        by_name_year.value_at_quantile(0.5) as f64 / baseline.value_at_quantile(0.5) as f64
    );

    let _ = stop.send(true);
    while tasks.join_next().await.is_some() {}
    if let Some((admin, name)) = dropped_database {
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await?;
    }
    Ok(())
}
