//! Harness helpers for the identity-card and foreigner suites: typed clients, citizens
//! born on chosen dates, sample foreigners and declarations, and assertions on field
//! violations and audit events.

use crate::Cluster;
use crate::api::{request, sample_citizen};
use chrono::{FixedOffset, Months, NaiveDate};
use dancu_kit::client::TracedChannel;
use dancu_kit::config::ServiceKind;
use dancu_proto::audit::v1::{AuditEvent, ListEventsRequest};
use dancu_proto::common::v1::{Date, Sex};
use dancu_proto::identity::v1::card_service_client::CardServiceClient;
use dancu_proto::identity::v1::foreigner_service_client::ForeignerServiceClient;
use dancu_proto::identity::v1::{
    AccommodationDeclaration, CheckOutAccommodationRequest, DeclareAccommodationRequest,
    EntryDocument, EntryDocumentType, Foreigner, ListCurrentStaysRequest, ListCurrentStaysResponse,
    ListForeignersRequest, ListForeignersResponse, RegisterCitizenRequest,
    RegisterForeignerRequest,
};
use sea_orm::{ConnectionTrait, Database};
use tonic::{Code, Status};
use tonic_types::StatusExt;

/// Purpose sent by the helpers.
pub const PURPOSE: &str = "residence_management";

impl Cluster {
    /// Client of identity's card service.
    pub fn cards(&self) -> CardServiceClient<TracedChannel> {
        CardServiceClient::new(crate::channel(&self.endpoint(ServiceKind::Identity)))
    }

    /// Client of identity's foreigner service.
    pub fn foreigners(&self) -> ForeignerServiceClient<TracedChannel> {
        ForeignerServiceClient::new(crate::channel(&self.endpoint(ServiceKind::Identity)))
    }

    /// Registers a male citizen born in Hà Nội on `birth`, with serial `serial` (the last
    /// six digits of the personal ID); returns the personal ID.
    pub async fn register_born(&self, token: &str, birth: NaiveDate, serial: u32) -> String {
        use chrono::Datelike;
        let century = match birth.year() / 100 {
            19 => 0,
            20 => 2,
            _ => panic!("test births are in the 1900s or 2000s"),
        };
        let personal_id = format!("001{century}{:02}{serial:06}", birth.year() % 100);
        let mut citizen = sample_citizen(&personal_id);
        citizen.date_of_birth = Some(Date {
            year: birth.year(),
            month: birth.month() as i32,
            day: birth.day() as i32,
        });
        self.identity()
            .register_citizen(request(
                RegisterCitizenRequest {
                    citizen: Some(citizen),
                    ..Default::default()
                },
                token,
                Some(PURPOSE),
                None,
            ))
            .await
            .expect("register citizen");
        personal_id
    }

    /// Lets time pass for a card: rewrites its stored expiry date directly in identity's
    /// database (the only way to test a card that expired without waiting years).
    pub async fn set_card_expiry(&self, personal_id: &str, expire_date: NaiveDate) {
        let db = Database::connect(self.config.database_url(ServiceKind::Identity))
            .await
            .expect("connect to identity's database");
        let sql = format!(
            "UPDATE identity_cards SET expire_date = '{}' WHERE personal_id = '{}'",
            expire_date.format("%Y-%m-%d"),
            personal_id.replace('\'', "")
        );
        let result = db.execute_unprepared(&sql).await.expect("update card");
        assert_eq!(result.rows_affected(), 1, "the card exists");
        db.close().await.expect("close");
    }

    /// Audit events by `actor_id` with `rpc`, waiting up to twenty seconds for at least
    /// `at_least` of them.
    pub async fn events_for_rpc(
        &self,
        token: &str,
        actor_id: &str,
        rpc: &str,
        at_least: usize,
    ) -> Vec<AuditEvent> {
        let mut found = Vec::new();
        for _ in 0..400 {
            let mut page_token = String::new();
            found.clear();
            loop {
                let page = self
                    .list_events(
                        token,
                        ListEventsRequest {
                            actor_id: actor_id.to_owned(),
                            page_size: 500,
                            page_token: page_token.clone(),
                            ..Default::default()
                        },
                    )
                    .await
                    .expect("list events");
                found.extend(page.events.into_iter().filter(|e| e.rpc == rpc));
                if page.next_page_token.is_empty() {
                    break;
                }
                page_token = page.next_page_token;
            }
            if found.len() >= at_least {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        found
    }
}

/// Today in Vietnam (UTC+7), the date cards are issued on.
pub fn vietnam_today() -> NaiveDate {
    let offset = FixedOffset::east_opt(7 * 3600).expect("valid offset");
    chrono::Utc::now().with_timezone(&offset).date_naive()
}

/// `date` moved by a signed number of months.
pub fn add_months(date: NaiveDate, months: i32) -> NaiveDate {
    if months >= 0 {
        date.checked_add_months(Months::new(months as u32))
    } else {
        date.checked_sub_months(Months::new(months.unsigned_abs()))
    }
    .expect("date in range")
}

/// A proto date.
pub fn proto_date(date: NaiveDate) -> Date {
    use chrono::Datelike;
    Date {
        year: date.year(),
        month: date.month() as i32,
        day: date.day() as i32,
    }
}

/// A valid foreigner: a Korean visitor on a visa valid from last month for a year.
pub fn sample_foreigner(passport_number: &str) -> Foreigner {
    let today = vietnam_today();
    Foreigner {
        passport_number: passport_number.to_owned(),
        nationality: "KOR".to_owned(),
        full_name: "Kim Min-jun".to_owned(),
        sex: Sex::Male as i32,
        date_of_birth: Some(Date {
            year: 1988,
            month: 3,
            day: 9,
        }),
        entry_document: Some(EntryDocument {
            r#type: EntryDocumentType::Visa as i32,
            number: "VN-2026/123456".to_owned(),
            valid_from: Some(proto_date(add_months(today, -1))),
            valid_until: Some(proto_date(add_months(today, 11))),
        }),
        ..Default::default()
    }
}

/// A protobuf timestamp `offset_secs` from now.
pub fn time_from_now(offset_secs: i64) -> prost_types::Timestamp {
    let now = chrono::Utc::now().timestamp();
    prost_types::Timestamp {
        seconds: now + offset_secs,
        nanos: 0,
    }
}

/// A valid declaration for `foreigner_id` in commune `01001` (Phường Ba Đình, Hà Nội):
/// arrived `arrived_hours_ago`, leaving in three days.
pub fn sample_declaration(foreigner_id: &str, arrived_hours_ago: i64) -> AccommodationDeclaration {
    AccommodationDeclaration {
        foreigner_id: foreigner_id.to_owned(),
        host_name: "Khách sạn Hoa Sen".to_owned(),
        commune_code: "01001".to_owned(),
        address: "12 Phố Điện Biên Phủ".to_owned(),
        arrival_time: Some(time_from_now(-arrived_hours_ago * 3600)),
        planned_departure_time: Some(time_from_now(3 * 24 * 3600)),
        remote_area: false,
        ..Default::default()
    }
}

/// The fields named by the status's `google.rpc.BadRequest` detail.
pub fn violated_fields(status: &Status) -> Vec<String> {
    status
        .get_error_details()
        .bad_request()
        .map(|b| b.field_violations.iter().map(|v| v.field.clone()).collect())
        .unwrap_or_default()
}

/// Asserts `INVALID_ARGUMENT` with a violation on `field`.
pub fn assert_invalid(status: &Status, field: &str) {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(
        violated_fields(status).iter().any(|f| f == field),
        "expected a violation on {field}, got {:?}",
        violated_fields(status)
    );
}

/// Asserts a status code, showing the status otherwise.
pub fn assert_code(status: &Status, code: Code) {
    assert_eq!(status.code(), code, "{status:?}");
}

/// `RegisterForeigner` (purpose `residence_management`).
pub async fn register_foreigner(
    cluster: &Cluster,
    token: &str,
    f: Foreigner,
) -> Result<Foreigner, Status> {
    cluster
        .foreigners()
        .register_foreigner(request(
            RegisterForeignerRequest { foreigner: Some(f) },
            token,
            Some(PURPOSE),
            None,
        ))
        .await
        .map(tonic::Response::into_inner)
}

/// `DeclareAccommodation`.
pub async fn declare(
    cluster: &Cluster,
    token: &str,
    d: AccommodationDeclaration,
) -> Result<AccommodationDeclaration, Status> {
    cluster
        .foreigners()
        .declare_accommodation(request(
            DeclareAccommodationRequest {
                declaration: Some(d),
            },
            token,
            Some(PURPOSE),
            None,
        ))
        .await
        .map(tonic::Response::into_inner)
}

/// `CheckOutAccommodation`.
pub async fn check_out(
    cluster: &Cluster,
    token: &str,
    req: CheckOutAccommodationRequest,
) -> Result<AccommodationDeclaration, Status> {
    cluster
        .foreigners()
        .check_out_accommodation(request(req, token, Some(PURPOSE), None))
        .await
        .map(tonic::Response::into_inner)
}

/// `ListCurrentStays`.
pub async fn stays(
    cluster: &Cluster,
    token: &str,
    req: ListCurrentStaysRequest,
) -> Result<ListCurrentStaysResponse, Status> {
    cluster
        .foreigners()
        .list_current_stays(request(req, token, Some(PURPOSE), None))
        .await
        .map(tonic::Response::into_inner)
}

/// `ListForeigners`.
pub async fn list_foreigners(
    cluster: &Cluster,
    token: &str,
    req: ListForeignersRequest,
) -> Result<ListForeignersResponse, Status> {
    cluster
        .foreigners()
        .list_foreigners(request(req, token, Some(PURPOSE), None))
        .await
        .map(tonic::Response::into_inner)
}

/// A `ListCurrentStays` request.
pub fn stays_in(commune: &str, page_size: i32, page_token: &str) -> ListCurrentStaysRequest {
    ListCurrentStaysRequest {
        commune_code: commune.to_owned(),
        page_size,
        page_token: page_token.to_owned(),
    }
}
