//! Decoding and validating citizen records from the wire, and encoding them back.

use crate::app::{Citizen, FamilyLinks, LifeStatus};
use dancu_domain::{PartialDate, PersonalId};
use dancu_kit::convert::{date_to_proto, sex_from_proto, sex_to_proto, timestamp_from_us};
use dancu_kit::error::FieldViolations;
use dancu_proto::common::v1 as common;
use dancu_proto::identity::v1 as pb;

/// Longest free-text place (place of birth, home town…), in characters.
const MAX_PLACE_CHARS: usize = 200;
/// Longest ethnicity or religion, in characters.
const MAX_SHORT_TEXT_CHARS: usize = 50;
/// Most other names.
const MAX_OTHER_NAMES: usize = 10;
/// Most children linked.
const MAX_CHILDREN: usize = 30;
/// Longest e-mail address (RFC 5321 path limit).
const MAX_EMAIL_CHARS: usize = 254;

/// Fields an update may name.
pub const UPDATABLE_FIELDS: [&str; 17] = [
    "full_name",
    "other_names",
    "sex",
    "date_of_birth",
    "place_of_birth",
    "place_of_birth_registration",
    "home_town",
    "ethnicity",
    "religion",
    "nationality",
    "blood_type",
    "old_id_number",
    "family",
    "marital_status",
    "phone",
    "email",
    "life_status",
];

/// Decodes a citizen, reporting every violation under `prefix` (e.g. `citizen.`). Only the
/// fields for which `wanted` holds are validated; the others keep empty defaults. The
/// personal ID is always required.
pub fn decode_citizen(
    c: &pb::Citizen,
    prefix: &str,
    wanted: impl Fn(&str) -> bool,
    violations: &mut FieldViolations,
) -> Option<Citizen> {
    let mut bad = |field: &str, reason: String| violations.add(format!("{prefix}{field}"), reason);
    let personal_id = PersonalId::parse(c.personal_id.trim())
        .map_err(|e| bad("personal_id", e.to_string()))
        .ok();
    let full_name = if wanted("full_name") {
        dancu_domain::normalize_full_name(&c.full_name)
            .map_err(|e| bad("full_name", e.to_string()))
            .ok()
    } else {
        Some(String::new())
    };
    let sex = if wanted("sex") {
        let sex = sex_from_proto(c.sex);
        if sex.is_none() {
            bad("sex", "is required (SEX_MALE or SEX_FEMALE)".to_owned());
        }
        sex
    } else {
        Some(dancu_domain::Sex::Male)
    };
    let date_of_birth = if wanted("date_of_birth") {
        match &c.date_of_birth {
            None => {
                bad("date_of_birth", "is required".to_owned());
                None
            }
            Some(d) => partial_date(d).map_err(|e| bad("date_of_birth", e)).ok(),
        }
    } else {
        PartialDate::new(2000, 0, 0).ok()
    };
    let (Some(personal_id), Some(full_name), Some(sex), Some(date_of_birth)) =
        (personal_id, full_name, sex, date_of_birth)
    else {
        return None;
    };
    let mut citizen = Citizen::new(personal_id, full_name, sex, date_of_birth);
    let mut text = |field: &str, value: &str, max: usize| -> String {
        let value = value.trim();
        if wanted(field) && value.chars().count() > max {
            bad(field, format!("must be at most {max} characters"));
        }
        value.to_owned()
    };
    citizen.place_of_birth = text("place_of_birth", &c.place_of_birth, MAX_PLACE_CHARS);
    citizen.place_of_birth_registration = text(
        "place_of_birth_registration",
        &c.place_of_birth_registration,
        MAX_PLACE_CHARS,
    );
    citizen.home_town = text("home_town", &c.home_town, MAX_PLACE_CHARS);
    citizen.ethnicity = text("ethnicity", &c.ethnicity, MAX_SHORT_TEXT_CHARS);
    citizen.religion = text("religion", &c.religion, MAX_SHORT_TEXT_CHARS);
    let mut bad = |field: &str, reason: String| violations.add(format!("{prefix}{field}"), reason);
    if wanted("other_names") {
        if c.other_names.len() > MAX_OTHER_NAMES {
            bad("other_names", format!("at most {MAX_OTHER_NAMES} names"));
        }
        for (i, name) in c.other_names.iter().enumerate() {
            match dancu_domain::normalize_full_name(name) {
                Ok(name) => citizen.other_names.push(name),
                Err(e) => bad(&format!("other_names[{i}]"), e.to_string()),
            }
        }
    }
    if wanted("nationality") {
        let nationality = c.nationality.trim();
        if nationality.is_empty() {
            citizen.nationality = "VNM".to_owned();
        } else if nationality.len() == 3 && nationality.bytes().all(|b| b.is_ascii_uppercase()) {
            citizen.nationality = nationality.to_owned();
        } else {
            bad(
                "nationality",
                "must be an ISO 3166-1 alpha-3 code, e.g. VNM".to_owned(),
            );
        }
    }
    if wanted("blood_type") {
        citizen.blood_type = match pb::BloodType::try_from(c.blood_type) {
            Ok(pb::BloodType::Unspecified) => "",
            Ok(pb::BloodType::A) => "a",
            Ok(pb::BloodType::B) => "b",
            Ok(pb::BloodType::Ab) => "ab",
            Ok(pb::BloodType::O) => "o",
            Err(_) => {
                bad("blood_type", "is not a known blood type".to_owned());
                ""
            }
        }
        .to_owned();
    }
    if wanted("marital_status") {
        citizen.marital_status = match pb::MaritalStatus::try_from(c.marital_status) {
            Ok(pb::MaritalStatus::Unspecified) => "",
            Ok(pb::MaritalStatus::Single) => "single",
            Ok(pb::MaritalStatus::Married) => "married",
            Ok(pb::MaritalStatus::Divorced) => "divorced",
            Ok(pb::MaritalStatus::Widowed) => "widowed",
            Err(_) => {
                bad("marital_status", "is not a known marital status".to_owned());
                ""
            }
        }
        .to_owned();
    }
    if wanted("old_id_number") {
        let old = c.old_id_number.trim();
        let nine_digits = old.len() == 9 && old.bytes().all(|b| b.is_ascii_digit());
        if !old.is_empty() && !nine_digits {
            bad("old_id_number", "must be 9 digits".to_owned());
        }
        citizen.old_id_number = old.to_owned();
    }
    if wanted("phone") {
        match normalize_phone(&c.phone) {
            Ok(phone) => citizen.phone = phone,
            Err(reason) => bad("phone", reason.to_owned()),
        }
    }
    if wanted("email") {
        let email = c.email.trim();
        if !email.is_empty() && !plausible_email(email) {
            bad("email", "is not a valid e-mail address".to_owned());
        }
        citizen.email = email.to_owned();
    }
    if wanted("family") {
        citizen.family = decode_family(c.family.as_ref(), &mut bad);
    }
    if wanted("life_status") {
        citizen.life_status = decode_life_status(c, &mut bad).unwrap_or(LifeStatus::Alive);
    }
    Some(citizen)
}

/// A partial date from the wire.
pub fn partial_date(d: &common::Date) -> Result<PartialDate, String> {
    let month = u32::try_from(d.month).map_err(|_| "is not a real calendar date".to_owned())?;
    let day = u32::try_from(d.day).map_err(|_| "is not a real calendar date".to_owned())?;
    PartialDate::new(d.year, month, day).map_err(|e| e.to_string())
}

fn partial_date_to_proto(d: PartialDate) -> common::Date {
    common::Date {
        year: d.year(),
        month: d.month().map_or(0, |m| m as i32),
        day: d.day().map_or(0, |d| d as i32),
    }
}

fn decode_family(
    family: Option<&pb::FamilyLinks>,
    bad: &mut impl FnMut(&str, String),
) -> FamilyLinks {
    let Some(f) = family else {
        return FamilyLinks::default();
    };
    let mut one = |field: &str, text: &str| -> Option<PersonalId> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        PersonalId::parse(text)
            .map_err(|e| bad(&format!("family.{field}"), e.to_string()))
            .ok()
    };
    let mut links = FamilyLinks {
        father: one("father_id", &f.father_id),
        mother: one("mother_id", &f.mother_id),
        spouse: one("spouse_id", &f.spouse_id),
        legal_representative: one("legal_representative_id", &f.legal_representative_id),
        children: Vec::new(),
    };
    let mut repeated = Vec::new();
    for (i, child) in f.children_ids.iter().enumerate() {
        if let Some(id) = one(&format!("children_ids[{i}]"), child) {
            if links.children.contains(&id) {
                repeated.push(i);
            } else {
                links.children.push(id);
            }
        }
    }
    for i in repeated {
        bad(
            &format!("family.children_ids[{i}]"),
            "is listed twice".to_owned(),
        );
    }
    if f.children_ids.len() > MAX_CHILDREN {
        bad(
            "family.children_ids",
            format!("at most {MAX_CHILDREN} children"),
        );
    }
    links
}

fn decode_life_status(c: &pb::Citizen, bad: &mut impl FnMut(&str, String)) -> Option<LifeStatus> {
    let mut date = || match &c.life_status_date {
        None => {
            bad(
                "life_status_date",
                "is required for DECEASED and MISSING".to_owned(),
            );
            None
        }
        Some(d) => partial_date(d).map_err(|e| bad("life_status_date", e)).ok(),
    };
    match pb::LifeStatus::try_from(c.life_status) {
        Ok(pb::LifeStatus::Unspecified | pb::LifeStatus::Alive) => {
            if c.life_status_date.is_some() {
                bad(
                    "life_status_date",
                    "must be empty for a living person".to_owned(),
                );
            }
            Some(LifeStatus::Alive)
        }
        Ok(pb::LifeStatus::Deceased) => date().map(LifeStatus::Deceased),
        Ok(pb::LifeStatus::Missing) => date().map(LifeStatus::Missing),
        Err(_) => {
            bad("life_status", "is not a known life status".to_owned());
            None
        }
    }
}

/// A Vietnamese phone number in the form `0xxxxxxxxx`, from `0…` or `+84…` with optional
/// spaces, dots or dashes; empty stays empty.
fn normalize_phone(text: &str) -> Result<String, &'static str> {
    let compact: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-'))
        .collect();
    if compact.is_empty() {
        return Ok(compact);
    }
    let national = match compact.strip_prefix("+84") {
        Some(rest) => format!("0{rest}"),
        None => compact,
    };
    if national.len() == 10
        && national.starts_with('0')
        && national.bytes().all(|b| b.is_ascii_digit())
    {
        Ok(national)
    } else {
        Err("must be 10 digits starting with 0, or +84 and 9 digits")
    }
}

/// A deliberately simple check: one `@`, a non-empty local part, a dotted domain, no
/// whitespace. Deliverability is not the register's concern.
fn plausible_email(email: &str) -> bool {
    if email.chars().count() > MAX_EMAIL_CHARS || email.chars().any(char::is_whitespace) {
        return false;
    }
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.split('.').count() >= 2
                && domain.split('.').all(|label| !label.is_empty())
        }
        None => false,
    }
}

fn id_text(id: &Option<PersonalId>) -> String {
    id.as_ref()
        .map(|i| i.as_str().to_owned())
        .unwrap_or_default()
}

/// Encodes a citizen for the wire.
pub fn encode_citizen(c: Citizen) -> pb::Citizen {
    let blood_type = match c.blood_type.as_str() {
        "a" => pb::BloodType::A,
        "b" => pb::BloodType::B,
        "ab" => pb::BloodType::Ab,
        "o" => pb::BloodType::O,
        _ => pb::BloodType::Unspecified,
    };
    let marital_status = match c.marital_status.as_str() {
        "single" => pb::MaritalStatus::Single,
        "married" => pb::MaritalStatus::Married,
        "divorced" => pb::MaritalStatus::Divorced,
        "widowed" => pb::MaritalStatus::Widowed,
        _ => pb::MaritalStatus::Unspecified,
    };
    let life_status = match c.life_status {
        LifeStatus::Alive => pb::LifeStatus::Alive,
        LifeStatus::Deceased(_) => pb::LifeStatus::Deceased,
        LifeStatus::Missing(_) => pb::LifeStatus::Missing,
    };
    let family = &c.family;
    pb::Citizen {
        personal_id: c.personal_id.as_str().to_owned(),
        full_name: c.full_name,
        sex: sex_to_proto(c.sex) as i32,
        date_of_birth: Some(partial_date_to_proto(c.date_of_birth)),
        place_of_birth: c.place_of_birth,
        create_time: Some(timestamp_from_us(c.created_us)),
        etag: super::etag(c.version),
        other_names: c.other_names,
        place_of_birth_registration: c.place_of_birth_registration,
        home_town: c.home_town,
        ethnicity: c.ethnicity,
        religion: c.religion,
        nationality: c.nationality,
        blood_type: blood_type as i32,
        old_id_number: c.old_id_number,
        family: Some(pb::FamilyLinks {
            father_id: id_text(&family.father),
            mother_id: id_text(&family.mother),
            spouse_id: id_text(&family.spouse),
            children_ids: family
                .children
                .iter()
                .map(|i| i.as_str().to_owned())
                .collect(),
            legal_representative_id: id_text(&family.legal_representative),
        }),
        marital_status: marital_status as i32,
        phone: c.phone,
        email: c.email,
        life_status: life_status as i32,
        life_status_date: c.life_status.date().map(partial_date_to_proto),
        update_time: Some(timestamp_from_us(c.updated_us)),
        residence: Some(pb::ResidenceSummary {
            permanent_commune_code: c.residence.permanent_commune,
            temporary_commune_code: c.residence.temporary_commune,
            temporary_until: c.residence.temporary_until.map(date_to_proto),
            current_commune_code: c.residence.current_commune,
            current_province_code: c.residence.current_province,
        }),
        household_id: c.household_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones() {
        assert_eq!(normalize_phone("0912 345 678"), Ok("0912345678".to_owned()));
        assert_eq!(normalize_phone("+84912345678"), Ok("0912345678".to_owned()));
        assert_eq!(normalize_phone(""), Ok(String::new()));
        assert!(normalize_phone("12345").is_err());
        assert!(normalize_phone("09123456789").is_err());
    }

    #[test]
    fn emails() {
        assert!(plausible_email("an.nguyen@example.vn"));
        assert!(!plausible_email("an@"));
        assert!(!plausible_email("an@example"));
        assert!(!plausible_email("a n@example.vn"));
        assert!(!plausible_email("a@b@example.vn"));
    }
}
