//! The gRPC face of the analysis: `dancu.records.v1.AnalysisService`.

use super::subjects;
use crate::app::analysis::hotspots::{MIN_RISING_FACTS, RISING_Z, Windows};
use crate::app::analysis::risk::RiskLevel;
use crate::app::analysis::scorecard::Dimension;
use crate::app::analysis::{Analysis, HotspotQuery, Level};
use dancu_kit::call::CallContext;
use dancu_kit::convert::{date_to_proto, timestamp_from_us, today_in_vietnam as today};
use dancu_kit::error::FieldViolations;
use dancu_proto::records::v1 as pb;
use dancu_proto::records::v1::analysis_service_server::AnalysisService;
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// Default and bounds of the request numbers.
const DEFAULT_WINDOW_DAYS: u32 = 30;
const MAX_WINDOW_DAYS: i32 = 366;
const DEFAULT_BASELINE: u32 = 6;
const MAX_BASELINE: i32 = 24;
const DEFAULT_OFFENCES: usize = 100;
const MAX_OFFENCES: i32 = 1000;
/// Longest accepted unit code.
const MAX_UNIT_CHARS: usize = 32;

/// Full method name of an analysis RPC.
macro_rules! rpc {
    ($name:literal) => {
        concat!("/dancu.records.v1.AnalysisService/", $name)
    };
}

/// Implements `dancu.records.v1.AnalysisService`.
pub struct AnalysisApi {
    analysis: Arc<Analysis>,
}

impl AnalysisApi {
    /// The API over the analysis use cases.
    pub fn new(analysis: Arc<Analysis>) -> Self {
        Self { analysis }
    }

    /// Audits a call rejected for bad input, then returns the rejection.
    async fn refuse(&self, ctx: &CallContext, status: Status) -> Status {
        match self.analysis.audit_rejected(ctx, status.code()).await {
            Ok(()) => status,
            Err(e) => e.into(),
        }
    }
}

/// A number in `1..=max`, `default` when 0.
fn bounded(field: &str, value: i32, default: u32, max: i32, v: &mut FieldViolations) -> u32 {
    match value {
        0 => default,
        1.. if value <= max => value.unsigned_abs(),
        _ => {
            v.add(
                field,
                format!("must be between 1 and {max} (0 for the default)"),
            );
            default
        }
    }
}

fn unit(field: &str, value: &str, v: &mut FieldViolations) -> String {
    let value = value.trim();
    if value.chars().count() > MAX_UNIT_CHARS
        || !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        v.add(
            field,
            format!("must be a unit code: up to {MAX_UNIT_CHARS} ASCII letters, digits, `-_.`"),
        );
    }
    value.to_owned()
}

fn counts(map: std::collections::BTreeMap<String, u64>) -> Vec<pb::CodeCount> {
    map.into_iter()
        .map(|(code, count)| pb::CodeCount {
            code,
            count: i64::try_from(count).unwrap_or(i64::MAX),
        })
        .collect()
}

fn int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn dimension(d: Dimension) -> pb::QualityDimension {
    match d {
        Dimension::Correct => pb::QualityDimension::Correct,
        Dimension::Complete => pb::QualityDimension::Complete,
        Dimension::Clean => pb::QualityDimension::Clean,
        Dimension::Live => pb::QualityDimension::Live,
    }
}

#[tonic::async_trait]
impl AnalysisService for AnalysisApi {
    async fn get_hotspots(
        &self,
        request: Request<pb::GetHotspotsRequest>,
    ) -> Result<Response<pb::HotspotReport>, Status> {
        let ctx = CallContext::from_request(&request, rpc!("GetHotspots"))?;
        let message = request.into_inner();
        let mut v = FieldViolations::new();
        let days = bounded(
            "window_days",
            message.window_days,
            DEFAULT_WINDOW_DAYS,
            MAX_WINDOW_DAYS,
            &mut v,
        );
        let baseline = bounded(
            "baseline_windows",
            message.baseline_windows,
            DEFAULT_BASELINE,
            MAX_BASELINE,
            &mut v,
        );
        let end = subjects::date("end_date", message.end_date.as_ref(), false, &mut v)
            .unwrap_or_else(today);
        let province = message.province_code.trim().to_owned();
        if !province.is_empty()
            && (province.len() != 2 || !province.bytes().all(|b| b.is_ascii_digit()))
        {
            v.add("province_code", "must be a 2-digit province code");
        }
        let level = match pb::AreaLevel::try_from(message.level) {
            Ok(pb::AreaLevel::Unspecified | pb::AreaLevel::Commune) => Level::Commune,
            Ok(pb::AreaLevel::Province) => Level::Province,
            Err(_) => {
                v.add("level", "unknown area level");
                Level::Commune
            }
        };
        if let Err(status) = v.check() {
            return Err(self.refuse(&ctx, status).await);
        }
        let windows = Windows {
            end,
            days,
            baseline,
        };
        let query = HotspotQuery {
            windows,
            province: (!province.is_empty()).then_some(province),
            level,
        };
        let areas = self.analysis.hotspots(&ctx, &query).await?;
        Ok(Response::new(pb::HotspotReport {
            window_start: Some(date_to_proto(windows.start())),
            window_end: Some(date_to_proto(windows.end)),
            window_days: i32::try_from(days).unwrap_or(i32::MAX),
            baseline_windows: i32::try_from(baseline).unwrap_or(i32::MAX),
            statistic: format!(
                "rising when new_facts >= {MIN_RISING_FACTS} and (new_facts - mean) / \
                 max(sd, sqrt(mean), 1) > {RISING_Z}, mean and population sd taken over the \
                 {baseline} windows of {days} days before the current one"
            ),
            areas: areas
                .into_iter()
                .map(|a| pb::AreaHotspot {
                    area_code: a.area,
                    residents: int(a.residents),
                    active_subjects: int(a.active_subjects),
                    active_by_classification: counts(a.active_by_class),
                    new_facts_by_source: counts(a.new_facts_by_source),
                    new_facts: int(a.new_facts),
                    previous_new_facts: a.previous_new_facts.into_iter().map(int).collect(),
                    active_rate_per_1000: a.active_rate_per_1000,
                    new_fact_rate_per_1000: a.new_fact_rate_per_1000,
                    baseline_mean: a.baseline_mean,
                    baseline_sd: a.baseline_sd,
                    z_score: a.z_score,
                    rising: a.rising,
                })
                .collect(),
        }))
    }

    async fn get_risk_indicator(
        &self,
        request: Request<pb::GetRiskIndicatorRequest>,
    ) -> Result<Response<pb::RiskIndicator>, Status> {
        let ctx = CallContext::from_request(&request, rpc!("GetRiskIndicator"))?;
        let mut v = FieldViolations::new();
        let id = subjects::uuid("subject_id", &request.get_ref().subject_id, &mut v);
        if let Err(status) = v.check() {
            return Err(self.refuse(&ctx, status).await);
        }
        let as_of = today();
        let risk = self.analysis.risk(&ctx, &id, as_of).await?;
        Ok(Response::new(pb::RiskIndicator {
            subject_id: id,
            score: i32::try_from(risk.score).unwrap_or(i32::MAX),
            level: match risk.level {
                RiskLevel::Low => pb::RiskLevel::Low,
                RiskLevel::Medium => pb::RiskLevel::Medium,
                RiskLevel::High => pb::RiskLevel::High,
            } as i32,
            reasons: risk
                .reasons
                .into_iter()
                .map(|r| pb::RiskReason {
                    code: r.code,
                    description: r.description,
                    points: i32::try_from(r.points).unwrap_or(i32::MAX),
                })
                .collect(),
            as_of: Some(date_to_proto(as_of)),
        }))
    }

    async fn get_scorecard(
        &self,
        request: Request<pb::GetScorecardRequest>,
    ) -> Result<Response<pb::Scorecard>, Status> {
        let ctx = CallContext::from_request(&request, rpc!("GetScorecard"))?;
        let message = request.into_inner();
        let mut v = FieldViolations::new();
        let unit = unit("unit", &message.unit, &mut v);
        let max = bounded(
            "max_offences",
            message.max_offences,
            DEFAULT_OFFENCES as u32,
            MAX_OFFENCES,
            &mut v,
        );
        if let Err(status) = v.check() {
            return Err(self.refuse(&ctx, status).await);
        }
        let found = self.analysis.scorecard(&ctx, &unit).await?;
        let total_offences = found.card.offences.len();
        Ok(Response::new(pb::Scorecard {
            unit: found.unit,
            subjects: int(found.card.subjects),
            scores: found
                .card
                .scores
                .iter()
                .map(|(d, s)| pb::QualityScore {
                    dimension: dimension(*d) as i32,
                    passed: int(s.passed),
                    total: int(s.total),
                    score: s.ratio(),
                })
                .collect(),
            offences: found
                .card
                .offences
                .into_iter()
                .take(max as usize)
                .map(|o| pb::QualityOffence {
                    subject_id: o.subject_id,
                    dimension: dimension(o.dimension) as i32,
                    reason: o.reason,
                })
                .collect(),
            total_offences: int(total_offences as u64),
            live_period_days: i32::try_from(found.live_period_days).unwrap_or(i32::MAX),
            oldest_validation_time: found.oldest_validation_us.map(timestamp_from_us),
        }))
    }

    async fn revalidate_subjects(
        &self,
        request: Request<pb::RevalidateSubjectsRequest>,
    ) -> Result<Response<pb::RevalidateSubjectsResponse>, Status> {
        let ctx = CallContext::from_request(&request, rpc!("RevalidateSubjects"))?;
        let mut v = FieldViolations::new();
        let unit = unit("unit", &request.get_ref().unit, &mut v);
        if let Err(status) = v.check() {
            return Err(self.refuse(&ctx, status).await);
        }
        let found = self.analysis.revalidate(&ctx, &unit).await?;
        Ok(Response::new(pb::RevalidateSubjectsResponse {
            checked: int(found.checked),
            matched: int(found.matched),
            mismatched: int(found.mismatched),
            unknown: int(found.unknown),
        }))
    }
}
