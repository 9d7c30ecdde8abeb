//! `dancu bench`: throughput and latency of the personal-data path, reported as a ratio
//! against a bare tonic server measured in the same run on the same machine.
//!
//! The baseline is tonic's own health service, served in this process with no layers: the
//! floor cost of a gRPC round trip here. The target is `GetCitizen` on a running suite: token
//! check, purpose check, a register read, and the audit event committed to the outbox and
//! shipped to the audit service before the answer leaves.

use anyhow::Context;
use dancu_domain::{PersonalId, Sex};
use dancu_proto::common::v1 as common;
use dancu_proto::identity::v1 as pb;
use dancu_proto::identity::v1::auth_service_client::AuthServiceClient;
use dancu_proto::identity::v1::identity_service_client::IdentityServiceClient;
use hdrhistogram::Histogram;
use std::future::Future;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::{Channel, Endpoint};

/// Settings of a benchmark run.
#[derive(Clone, Debug, clap::Args)]
pub struct BenchArgs {
    /// Identity endpoint of the running suite.
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    pub identity: String,
    /// Officer to log in as.
    #[arg(long, default_value = "admin")]
    pub username: String,
    /// Password of that officer.
    #[arg(long, env = "DANCU_BENCH_PASSWORD")]
    pub password: String,
    /// Calls in flight at once.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Seconds to measure each scenario (after a one-second warm-up).
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
}

/// What one scenario measured.
struct Measurement {
    calls: u64,
    errors: u64,
    elapsed: Duration,
    latency_us: Histogram<u64>,
}

impl Measurement {
    fn rate(&self) -> f64 {
        self.calls as f64 / self.elapsed.as_secs_f64()
    }

    fn print(&self, name: &str) {
        println!(
            "{name:<32} {:>10.0} calls/s  p50 {:>7.2} ms  p99 {:>7.2} ms  errors {}",
            self.rate(),
            self.latency_us.value_at_quantile(0.50) as f64 / 1000.0,
            self.latency_us.value_at_quantile(0.99) as f64 / 1000.0,
            self.errors,
        );
    }
}

/// Runs `concurrency` loops of `call` for a warm-up second, then for `seconds`.
async fn drive<F, Fut>(concurrency: usize, seconds: u64, call: F) -> Measurement
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: Future<Output = bool> + Send,
{
    let run = |window: Duration| {
        let call = call.clone();
        async move {
            let deadline = Instant::now() + window;
            let mut workers = tokio::task::JoinSet::new();
            for _ in 0..concurrency {
                let call = call.clone();
                workers.spawn(async move {
                    let mut histogram = Histogram::<u64>::new(3).expect("valid precision");
                    let mut errors = 0;
                    while Instant::now() < deadline {
                        let started = Instant::now();
                        if !call().await {
                            errors += 1;
                        }
                        let _ = histogram.record(started.elapsed().as_micros() as u64);
                    }
                    (histogram, errors)
                });
            }
            let started = Instant::now();
            let mut total = Histogram::<u64>::new(3).expect("valid precision");
            let mut errors = 0;
            while let Some(Ok((histogram, worker_errors))) = workers.join_next().await {
                let _ = total.add(&histogram);
                errors += worker_errors;
            }
            Measurement {
                calls: total.len(),
                errors,
                elapsed: started.elapsed(),
                latency_us: total,
            }
        }
    };
    run(Duration::from_secs(1)).await;
    run(Duration::from_secs(seconds)).await
}

async fn connect(endpoint: &str) -> anyhow::Result<Channel> {
    Endpoint::from_shared(endpoint.to_owned())?
        .tcp_nodelay(true)
        .connect()
        .await
        .with_context(|| format!("cannot reach {endpoint}"))
}

/// `dancu bench`.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    println!(
        "dancu bench: {} in flight, {} s per scenario, {} cores",
        args.concurrency,
        args.seconds,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    // Baseline: a bare tonic server (health service only, no layers) in this process.
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let (_reporter, health) = tonic_health::server::health_reporter();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(health)
            .serve_with_incoming(TcpListenerStream::new(listener)),
    );
    let channel = connect(&format!("http://{address}")).await?;
    let baseline = drive(args.concurrency, args.seconds, move || {
        let mut client = tonic_health::pb::health_client::HealthClient::new(channel.clone());
        async move {
            client
                .check(tonic_health::pb::HealthCheckRequest::default())
                .await
                .is_ok()
        }
    })
    .await;
    baseline.print("baseline: bare tonic Health/Check");

    // Target: GetCitizen through the whole stack.
    let channel = connect(&args.identity).await?;
    let token = AuthServiceClient::new(channel.clone())
        .login(pb::LoginRequest {
            username: args.username.clone(),
            password: args.password.clone(),
        })
        .await
        .context("login failed")?
        .into_inner()
        .access_token;
    let personal_id = PersonalId::generate("001", Sex::Female, 1985, &mut rand::thread_rng())?;
    let authorization: tonic::metadata::MetadataValue<_> = format!("Bearer {token}").parse()?;
    let register = pb::RegisterCitizenRequest {
        citizen: Some(pb::Citizen {
            personal_id: personal_id.as_str().to_owned(),
            full_name: "Trần Thị Bích".to_owned(),
            sex: common::Sex::Female as i32,
            date_of_birth: Some(common::Date {
                year: 1985,
                month: 3,
                day: 8,
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut request = tonic::Request::new(register);
    request
        .metadata_mut()
        .insert("authorization", authorization.clone());
    request
        .metadata_mut()
        .insert("x-dancu-purpose", "data_quality".parse()?);
    match IdentityServiceClient::new(channel.clone())
        .register_citizen(request)
        .await
    {
        Ok(_) => {}
        Err(status) if status.code() == tonic::Code::AlreadyExists => {}
        Err(status) => anyhow::bail!("registering the bench citizen failed: {status}"),
    }
    let target = drive(args.concurrency, args.seconds, move || {
        let mut client = IdentityServiceClient::new(channel.clone());
        let mut request = tonic::Request::new(pb::GetCitizenRequest {
            personal_id: personal_id.as_str().to_owned(),
        });
        request
            .metadata_mut()
            .insert("authorization", authorization.clone());
        request.metadata_mut().insert(
            "x-dancu-purpose",
            tonic::metadata::MetadataValue::from_static("data_quality"),
        );
        async move { client.get_citizen(request).await.is_ok() }
    })
    .await;
    target.print("identity GetCitizen (audited)");
    println!(
        "ratio GetCitizen / baseline: {:.3} (throughput), {:.1}x (p50 latency)",
        target.rate() / baseline.rate(),
        target.latency_us.value_at_quantile(0.5) as f64
            / baseline.latency_us.value_at_quantile(0.5).max(1) as f64
    );
    Ok(())
}
