//! Analysis over subject records: hotspots per area, the per-subject risk indicator, and
//! the data-quality scorecard of a unit with the job re-validating subjects against
//! identity. The figures come from the pure modules [`hotspots`], [`risk`] and
//! [`scorecard`]; this module gathers their inputs within the caller's jurisdiction and
//! audits every call.

pub mod hotspots;
mod residents;
mod revalidate;
pub mod risk;
pub mod scorecard;

pub use residents::ResidentCounts;
pub use revalidate::{Revalidation, RevalidationJob, Revalidator};

use super::model::{DATE, class_to_row};
use super::subject_cases::touched;
use super::subjects::{actor, authorization, owning_area};
use super::{RecordsError, SubjectCases};
use crate::store::{GroupCount, Scope, SubjectRow};
use chrono::NaiveDate;
use dancu_kit::call::CallContext;
use dancu_policy::{Action, AreaPath, Decision};
use hotspots::{AreaFigures, AreaInput, FactCounts, Windows};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tonic::Code;

/// The class whose counts a caller sees only if the policies let them read it.
const SUSPICIOUS: &str = "suspicious_signs";
/// Area key of subjects whose commune of residence is unknown.
pub const UNKNOWN_AREA: &str = "unknown";

/// Level at which hotspots are reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Per commune.
    Commune,
    /// Per province.
    Province,
}

/// A hotspot question.
#[derive(Clone, Debug)]
pub struct HotspotQuery {
    /// The windows.
    pub windows: Windows,
    /// Only this province, when given.
    pub province: Option<String>,
    /// Level of the areas reported.
    pub level: Level,
}

/// A scorecard with what it was computed over.
#[derive(Clone, Debug)]
pub struct UnitScorecard {
    /// The unit.
    pub unit: String,
    /// The scores and offences.
    pub card: scorecard::Scorecard,
    /// The live period used.
    pub live_period_days: u32,
    /// Oldest re-validation among the subjects (`None` if some never ran).
    pub oldest_validation_us: Option<i64>,
}

/// The analysis use cases.
pub struct Analysis {
    cases: Arc<SubjectCases>,
    residents: ResidentCounts,
    revalidator: Arc<Revalidator>,
    live_period_days: u32,
}

/// The store scope of an area path.
fn scope_of(path: &AreaPath) -> Scope {
    match path.codes().len() {
        1 => Scope::Nation,
        2 => Scope::Province(path.code().to_owned()),
        _ => Scope::Commune(path.code().to_owned()),
    }
}

/// The area a commune counts under at `level`.
fn area_key(commune: &str, level: Level) -> String {
    if commune.is_empty() {
        return UNKNOWN_AREA.to_owned();
    }
    match level {
        Level::Commune => commune.to_owned(),
        Level::Province => commune.chars().take(2).collect(),
    }
}

impl Analysis {
    /// The analysis over `cases` (store, policy, audit), counting residents with
    /// `residents`, re-validating with `revalidator`.
    pub fn new(
        cases: Arc<SubjectCases>,
        residents: ResidentCounts,
        revalidator: Arc<Revalidator>,
        live_period_days: u32,
    ) -> Self {
        Self {
            cases,
            residents,
            revalidator,
            live_period_days,
        }
    }

    /// Decides `ReadSubjectRecord` over `area`, auditing and refusing a denial.
    async fn allow(&self, ctx: &CallContext, area: AreaPath) -> Result<Decision, RecordsError> {
        let decision = self
            .cases
            .decide(ctx, Action::ReadSubjectRecord, area, "")?;
        if !decision.allowed {
            self.cases
                .audit_decided(
                    ctx,
                    touched(None, None),
                    Code::PermissionDenied,
                    &authorization(ctx, &decision),
                )
                .await?;
            return Err(RecordsError::Denied);
        }
        Ok(decision)
    }

    /// Classes hidden from the caller in `area`.
    fn hidden(&self, ctx: &CallContext, area: AreaPath) -> Result<Vec<String>, RecordsError> {
        let sees = self
            .cases
            .decide(ctx, Action::ReadSubjectRecord, area, SUSPICIOUS)?
            .allowed;
        Ok(if sees {
            Vec::new()
        } else {
            vec![SUSPICIOUS.to_owned()]
        })
    }

    /// The area a caller asks about: their jurisdiction, or a province inside it.
    async fn area(
        &self,
        ctx: &CallContext,
        province: Option<&str>,
    ) -> Result<AreaPath, RecordsError> {
        let jurisdiction = actor(ctx).jurisdiction;
        let asked = match (province, jurisdiction) {
            (_, None) => None,
            (None, Some(jurisdiction)) => Some(jurisdiction),
            (Some(code), Some(jurisdiction)) => {
                let path = AreaPath::resolve(code, dancu_domain::AreaTable::builtin())
                    .filter(|p| p.codes().len() == 2);
                let Some(path) = path else {
                    return Err(RecordsError::Invalid(vec![(
                        "province_code",
                        "not a province code of the area table".to_owned(),
                    )]));
                };
                // Inside the jurisdiction: the province itself or the nation above it.
                path.codes()
                    .contains(&jurisdiction.code().to_owned())
                    .then_some(path)
            }
        };
        match asked {
            Some(path) => Ok(path),
            None => {
                self.cases
                    .audit(ctx, None, None, Code::PermissionDenied)
                    .await?;
                Err(RecordsError::Denied)
            }
        }
    }

    /// Audits a call rejected for bad input (nothing read).
    pub async fn audit_rejected(
        &self,
        ctx: &CallContext,
        outcome: Code,
    ) -> Result<(), RecordsError> {
        self.cases.audit(ctx, None, None, outcome).await
    }

    /// Hotspots of the caller's jurisdiction (or a province inside it).
    pub async fn hotspots(
        &self,
        ctx: &CallContext,
        query: &HotspotQuery,
    ) -> Result<Vec<AreaFigures>, RecordsError> {
        self.cases.check_purpose(ctx, None).await?;
        let path = self.area(ctx, query.province.as_deref()).await?;
        let decision = self.allow(ctx, path.clone()).await?;
        let hidden = self.hidden(ctx, path.clone())?;
        let scope = scope_of(&path);
        let windows = query.windows;
        let end = windows.end.format(DATE).to_string();
        let earliest = windows.earliest().format(DATE).to_string();
        let store = self.cases.store();
        let by_class = store.active_subjects(&scope, &end, true, &hidden).await?;
        let distinct = store.active_subjects(&scope, &end, false, &hidden).await?;
        let facts = store.new_facts(&scope, &earliest, &end, &hidden).await?;
        let province = match &scope {
            Scope::Nation => None,
            Scope::Province(code) => Some(code.clone()),
            Scope::Commune(code) => Some(code.chars().take(2).collect()),
        };
        let residents = match self.residents.per_commune(ctx, province.as_deref()).await {
            Ok(residents) => residents,
            Err(error) => {
                let code = SubjectCases::code_of(&error);
                self.cases
                    .audit_decided(
                        ctx,
                        touched(None, None),
                        code,
                        &authorization(ctx, &decision),
                    )
                    .await?;
                return Err(error);
            }
        };
        let areas = gather(
            &windows,
            query.level,
            &by_class,
            &distinct,
            &facts,
            &residents,
            &scope,
        );
        self.cases
            .audit_decided(
                ctx,
                touched(None, None),
                Code::Ok,
                &authorization(ctx, &decision),
            )
            .await?;
        Ok(areas
            .iter()
            .map(|(area, input)| hotspots::figures(area, input, windows.baseline))
            .collect())
    }

    /// The risk indicator of a subject the caller may read, as of `today`.
    pub async fn risk(
        &self,
        ctx: &CallContext,
        subject_id: &str,
        today: NaiveDate,
    ) -> Result<risk::RiskIndicator, RecordsError> {
        // Reading the subject checks the purpose, the jurisdiction and hidden classes, and
        // audits the read.
        let subject = self.cases.get(ctx, subject_id).await?;
        let active: Vec<String> = subject
            .classes
            .iter()
            .filter(|c| c.start <= today && c.end.is_none_or(|end| end >= today))
            .map(|c| class_to_row(c).classification)
            .collect();
        let rows = self
            .cases
            .store()
            .timeline(subject_id, None, u64::MAX >> 1)
            .await?;
        let corrected: std::collections::HashSet<&str> = rows
            .iter()
            .filter_map(|r| r.corrects_entry_id.as_deref())
            .collect();
        let facts: Vec<risk::Fact> = rows
            .iter()
            .filter(|r| r.corrects_entry_id.is_none())
            .filter_map(|r| {
                Some(risk::Fact {
                    kind: r.kind.clone(),
                    date: NaiveDate::parse_from_str(&r.occur_date, DATE).ok()?,
                    corrected: corrected.contains(r.id.as_str()),
                })
            })
            .collect();
        Ok(risk::indicator(&active, &facts, today))
    }

    /// The subjects of `unit` (the caller's own when empty), once the purpose and the
    /// caller's right to read the unit's records are checked: the unit, its subjects, the
    /// area its records live in, and the decision.
    async fn unit_subjects(
        &self,
        ctx: &CallContext,
        unit: &str,
    ) -> Result<(String, Vec<SubjectRow>, AreaPath, Decision), RecordsError> {
        self.cases.check_purpose(ctx, None).await?;
        let unit = if unit.is_empty() {
            ctx.principal.unit.clone()
        } else {
            unit.to_owned()
        };
        let rows = self.cases.store().subjects_of_unit(&unit).await?;
        // The unit's records live in its area; a unit without subjects is judged by the
        // caller's own jurisdiction (there is nothing to reveal).
        let jurisdiction = actor(ctx).jurisdiction;
        if rows.is_empty() && unit != ctx.principal.unit && jurisdiction.is_none() {
            self.cases
                .audit(ctx, None, None, Code::PermissionDenied)
                .await?;
            return Err(RecordsError::Denied);
        }
        let area = match rows.first() {
            Some(row) => owning_area(&row.owning_area),
            None => jurisdiction.unwrap_or_else(AreaPath::nation),
        };
        let decision = self.allow(ctx, area.clone()).await?;
        Ok((unit, rows, area, decision))
    }

    /// The data-quality scorecard of `unit` (the caller's own when empty), with at most
    /// the offences the caller asked for kept by the API.
    pub async fn scorecard(
        &self,
        ctx: &CallContext,
        unit: &str,
    ) -> Result<UnitScorecard, RecordsError> {
        let (unit, rows, area, decision) = self.unit_subjects(ctx, unit).await?;
        let store = self.cases.store();
        let hidden = self.hidden(ctx, area)?;
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let mut classes: HashMap<String, Vec<scorecard::ClassFacts>> = HashMap::new();
        for class in store.classifications_of(store.connection(), &ids).await? {
            if hidden.contains(&class.classification) {
                continue;
            }
            let (Ok(start), end) = (
                NaiveDate::parse_from_str(&class.start_date, DATE),
                class
                    .end_date
                    .as_deref()
                    .map(|d| NaiveDate::parse_from_str(d, DATE)),
            ) else {
                return Err(RecordsError::Corrupt("start_date"));
            };
            let end = end
                .transpose()
                .map_err(|_| RecordsError::Corrupt("end_date"))?;
            classes
                .entry(class.subject_id.clone())
                .or_default()
                .push(scorecard::ClassFacts {
                    code: class.classification,
                    start,
                    end,
                    legal_basis: class.legal_basis,
                });
        }
        let others = store.other_units_per_person(&unit).await?;
        let validations: HashMap<String, (String, i64)> = store
            .validations_of_unit(&unit)
            .await?
            .into_iter()
            .map(|v| (v.subject_id, (v.verification, v.checked_us)))
            .collect();
        let mut oldest = Some(i64::MAX);
        let subjects: Vec<scorecard::SubjectFacts> = rows
            .into_iter()
            .map(|row| {
                let (verification, checked_us) = validations
                    .get(&row.id)
                    .map(|(v, at)| (scorecard::Verification::from_code(v), Some(*at)))
                    .unwrap_or((scorecard::Verification::Unchecked, None));
                oldest = match (oldest, checked_us) {
                    (Some(o), Some(at)) => Some(o.min(at)),
                    _ => None,
                };
                scorecard::SubjectFacts {
                    citizen: row.kind == "citizen",
                    personal_id_valid: dancu_domain::PersonalId::parse(&row.personal_id).is_ok(),
                    has_name: !row.snapshot_full_name.trim().is_empty(),
                    has_birth_date: !row.snapshot_birth_date.is_empty(),
                    has_commune: !row.snapshot_commune.is_empty(),
                    has_source: !row.source_reference.trim().is_empty(),
                    life_status: row.snapshot_life_status.clone(),
                    verification,
                    other_units: others.get(&row.person_key).copied().unwrap_or(0),
                    classes: classes.remove(&row.id).unwrap_or_default(),
                    updated_us: row.updated_us,
                    id: row.id,
                }
            })
            .collect();
        let live_since = chrono::Utc::now().timestamp_micros()
            - i64::from(self.live_period_days) * 86_400_000_000;
        let card = scorecard::scorecard(&subjects, live_since);
        self.cases
            .audit_decided(
                ctx,
                touched(None, None),
                Code::Ok,
                &authorization(ctx, &decision),
            )
            .await?;
        Ok(UnitScorecard {
            unit,
            oldest_validation_us: oldest.filter(|o| *o != i64::MAX),
            card,
            live_period_days: self.live_period_days,
        })
    }

    /// Re-validates `unit`'s subjects (the caller's own when empty) against identity now.
    pub async fn revalidate(
        &self,
        ctx: &CallContext,
        unit: &str,
    ) -> Result<Revalidation, RecordsError> {
        let (_, rows, _, decision) = self.unit_subjects(ctx, unit).await?;
        let outcome = self.revalidator.run(&rows).await;
        let code = match &outcome {
            Ok(_) => Code::Ok,
            Err(error) => SubjectCases::code_of(error),
        };
        self.cases
            .audit_decided(
                ctx,
                touched(None, None),
                code,
                &authorization(ctx, &decision),
            )
            .await?;
        outcome
    }
}

/// Per area, the inputs of the statistics.
fn gather(
    windows: &Windows,
    level: Level,
    by_class: &[GroupCount],
    distinct: &[GroupCount],
    facts: &[GroupCount],
    residents: &HashMap<String, u64>,
    scope: &Scope,
) -> BTreeMap<String, AreaInput> {
    let mut areas: BTreeMap<String, AreaInput> = BTreeMap::new();
    let slots = windows.baseline as usize + 1;
    for row in by_class {
        *areas
            .entry(area_key(&row.commune, level))
            .or_default()
            .active_by_class
            .entry(row.code.clone())
            .or_default() += row.count;
    }
    for row in distinct {
        areas
            .entry(area_key(&row.commune, level))
            .or_default()
            .active_subjects += row.count;
    }
    for row in facts {
        let Some(index) = NaiveDate::parse_from_str(&row.day, DATE)
            .ok()
            .and_then(|day| windows.index_of(day))
        else {
            continue;
        };
        let counts = areas
            .entry(area_key(&row.commune, level))
            .or_default()
            .new_facts_by_source
            .entry(row.code.clone())
            .or_insert_with(|| FactCounts {
                per_window: vec![0; slots],
            });
        counts.per_window[index as usize] += row.count;
    }
    for (commune, count) in residents {
        let inside = match scope {
            Scope::Nation => true,
            Scope::Province(code) => commune.starts_with(code.as_str()),
            Scope::Commune(code) => commune == code,
        };
        if inside && let Some(area) = areas.get_mut(&area_key(commune, level)) {
            area.residents += count;
        }
    }
    areas
}
