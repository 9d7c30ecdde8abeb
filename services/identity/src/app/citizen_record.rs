//! The citizen record as the use cases see it, and its mapping to and from the stored row.

use super::IdentityError;
use crate::store::CitizenRow;
use dancu_domain::{AreaTable, PartialDate, PersonalId, Sex};

/// Alive, deceased or missing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LifeStatus {
    /// Alive.
    Alive,
    /// Deceased on this date.
    Deceased(PartialDate),
    /// Declared missing on this date.
    Missing(PartialDate),
}

impl LifeStatus {
    /// Storage code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Alive => "alive",
            Self::Deceased(_) => "deceased",
            Self::Missing(_) => "missing",
        }
    }

    /// The date of death or disappearance.
    pub fn date(&self) -> Option<PartialDate> {
        match self {
            Self::Alive => None,
            Self::Deceased(d) | Self::Missing(d) => Some(*d),
        }
    }
}

/// Family links, by personal ID (validated, possibly of unregistered people).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FamilyLinks {
    /// Father.
    pub father: Option<PersonalId>,
    /// Mother.
    pub mother: Option<PersonalId>,
    /// Spouse.
    pub spouse: Option<PersonalId>,
    /// Children.
    pub children: Vec<PersonalId>,
    /// Legal representative.
    pub legal_representative: Option<PersonalId>,
}

/// Where a person lives now (derived; output only).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CurrentResidence {
    /// Permanent commune, or empty.
    pub permanent_commune: String,
    /// Temporary commune in force today, or empty.
    pub temporary_commune: String,
    /// Last day of that temporary residence.
    pub temporary_until: Option<chrono::NaiveDate>,
    /// Current commune, or empty.
    pub current_commune: String,
    /// Province of the current commune, or empty.
    pub current_province: String,
}

/// A citizen record.
#[derive(Clone, Debug)]
pub struct Citizen {
    /// Personal identification number.
    pub personal_id: PersonalId,
    /// Full name, NFC-normalised.
    pub full_name: String,
    /// Sex.
    pub sex: Sex,
    /// Date of birth, possibly partial.
    pub date_of_birth: PartialDate,
    /// Place of birth, free text.
    pub place_of_birth: String,
    /// Other names.
    pub other_names: Vec<String>,
    /// Place of birth registration.
    pub place_of_birth_registration: String,
    /// Home town.
    pub home_town: String,
    /// Ethnicity.
    pub ethnicity: String,
    /// Religion.
    pub religion: String,
    /// Nationality (ISO 3166-1 alpha-3).
    pub nationality: String,
    /// Blood type code (`a`, `b`, `ab`, `o`) or empty.
    pub blood_type: String,
    /// Old 9-digit ID number, or empty.
    pub old_id_number: String,
    /// Family links.
    pub family: FamilyLinks,
    /// Marital status code or empty.
    pub marital_status: String,
    /// Phone number or empty.
    pub phone: String,
    /// E-mail address or empty.
    pub email: String,
    /// Alive, deceased or missing.
    pub life_status: LifeStatus,
    /// Registration time (Unix microseconds); set by the register.
    pub created_us: i64,
    /// Last change (Unix microseconds); set by the register.
    pub updated_us: i64,
    /// Version, for the etag; set by the register.
    pub version: i64,
    /// Current residence; derived by the register.
    pub residence: CurrentResidence,
    /// Household id or empty; set by the register.
    pub household_id: String,
}

impl Citizen {
    /// A record with the mandatory fields and everything else empty.
    pub fn new(
        personal_id: PersonalId,
        full_name: String,
        sex: Sex,
        date_of_birth: PartialDate,
    ) -> Self {
        Self {
            personal_id,
            full_name,
            sex,
            date_of_birth,
            place_of_birth: String::new(),
            other_names: Vec::new(),
            place_of_birth_registration: String::new(),
            home_town: String::new(),
            ethnicity: String::new(),
            religion: String::new(),
            nationality: "VNM".to_owned(),
            blood_type: String::new(),
            old_id_number: String::new(),
            family: FamilyLinks::default(),
            marital_status: String::new(),
            phone: String::new(),
            email: String::new(),
            life_status: LifeStatus::Alive,
            created_us: 0,
            updated_us: 0,
            version: 0,
            residence: CurrentResidence::default(),
            household_id: String::new(),
        }
    }
}

fn sex_code(sex: Sex) -> &'static str {
    match sex {
        Sex::Male => "male",
        Sex::Female => "female",
    }
}

fn id_text(id: &Option<PersonalId>) -> String {
    id.as_ref()
        .map(|i| i.as_str().to_owned())
        .unwrap_or_default()
}

/// The stored row of `citizen`, keeping the residence columns of `base` (the stored row
/// being replaced, or a fresh one).
pub fn to_row(citizen: &Citizen, base: CitizenRow) -> CitizenRow {
    CitizenRow {
        personal_id: citizen.personal_id.as_str().to_owned(),
        full_name: citizen.full_name.clone(),
        name_key: dancu_domain::name_search_key(&citizen.full_name),
        sex: sex_code(citizen.sex).to_owned(),
        birth_date: citizen.date_of_birth.to_storage(),
        birth_year: citizen.date_of_birth.year(),
        place_of_birth: citizen.place_of_birth.clone(),
        created_us: citizen.created_us,
        version: citizen.version,
        other_names: citizen.other_names.join("\n"),
        place_of_birth_registration: citizen.place_of_birth_registration.clone(),
        home_town: citizen.home_town.clone(),
        ethnicity: citizen.ethnicity.clone(),
        religion: citizen.religion.clone(),
        nationality: citizen.nationality.clone(),
        blood_type: citizen.blood_type.clone(),
        old_id_number: citizen.old_id_number.clone(),
        father_id: id_text(&citizen.family.father),
        mother_id: id_text(&citizen.family.mother),
        spouse_id: id_text(&citizen.family.spouse),
        children_ids: citizen
            .family
            .children
            .iter()
            .map(PersonalId::as_str)
            .collect::<Vec<_>>()
            .join(","),
        legal_rep_id: id_text(&citizen.family.legal_representative),
        marital_status: citizen.marital_status.clone(),
        phone: citizen.phone.clone(),
        email: citizen.email.clone(),
        life_status: citizen.life_status.code().to_owned(),
        life_status_date: citizen
            .life_status
            .date()
            .map(|d| d.to_storage())
            .unwrap_or_default(),
        updated_us: citizen.updated_us,
        ..base
    }
}

fn parse_id(text: &str, field: &'static str) -> Result<Option<PersonalId>, IdentityError> {
    if text.is_empty() {
        return Ok(None);
    }
    PersonalId::parse(text)
        .map(Some)
        .map_err(|_| IdentityError::Corrupt(field))
}

/// The record held by a stored row, with its residence as of `today` (`YYYY-MM-DD`).
pub fn from_row(row: CitizenRow, today: &str) -> Result<Citizen, IdentityError> {
    let date =
        |text: &str, field| PartialDate::from_storage(text).ok_or(IdentityError::Corrupt(field));
    let life_status = match row.life_status.as_str() {
        "alive" => LifeStatus::Alive,
        "deceased" => LifeStatus::Deceased(date(&row.life_status_date, "life_status_date")?),
        "missing" => LifeStatus::Missing(date(&row.life_status_date, "life_status_date")?),
        _ => return Err(IdentityError::Corrupt("life_status")),
    };
    let temporary_in_force = !row.temp_commune.is_empty() && row.temp_until.as_str() >= today;
    let (temporary_commune, temporary_until) = if temporary_in_force {
        (
            row.temp_commune.clone(),
            chrono::NaiveDate::parse_from_str(&row.temp_until, "%Y-%m-%d").ok(),
        )
    } else {
        (String::new(), None)
    };
    let current_commune = if temporary_in_force {
        row.temp_commune.clone()
    } else {
        row.perm_commune.clone()
    };
    let current_province = if temporary_in_force {
        row.temp_province.clone()
    } else {
        row.perm_province.clone()
    };
    let children = row
        .children_ids
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| PersonalId::parse(s).map_err(|_| IdentityError::Corrupt("children_ids")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Citizen {
        personal_id: PersonalId::parse(&row.personal_id)
            .map_err(|_| IdentityError::Corrupt("personal_id"))?,
        sex: match row.sex.as_str() {
            "male" => Sex::Male,
            "female" => Sex::Female,
            _ => return Err(IdentityError::Corrupt("sex")),
        },
        date_of_birth: date(&row.birth_date, "birth_date")?,
        family: FamilyLinks {
            father: parse_id(&row.father_id, "father_id")?,
            mother: parse_id(&row.mother_id, "mother_id")?,
            spouse: parse_id(&row.spouse_id, "spouse_id")?,
            children,
            legal_representative: parse_id(&row.legal_rep_id, "legal_rep_id")?,
        },
        other_names: row
            .other_names
            .split('\n')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        full_name: row.full_name,
        place_of_birth: row.place_of_birth,
        place_of_birth_registration: row.place_of_birth_registration,
        home_town: row.home_town,
        ethnicity: row.ethnicity,
        religion: row.religion,
        nationality: row.nationality,
        blood_type: row.blood_type,
        old_id_number: row.old_id_number,
        marital_status: row.marital_status,
        phone: row.phone,
        email: row.email,
        life_status,
        created_us: row.created_us,
        updated_us: row.updated_us,
        version: row.version,
        residence: CurrentResidence {
            permanent_commune: row.perm_commune,
            temporary_commune,
            temporary_until,
            current_commune,
            current_province,
        },
        household_id: row.household_id,
    })
}

/// The province of a commune in `areas`, or an invalid-field error on `field`.
pub fn province_of(areas: &AreaTable, commune: &str, field: &str) -> Result<String, IdentityError> {
    areas
        .commune(commune)
        .map(|c| c.province_code.clone())
        .ok_or_else(|| IdentityError::invalid(field, "is not a known commune code"))
}

/// Today's date in the register's calendar: Vietnam time (UTC+7, no daylight saving).
pub fn today() -> chrono::NaiveDate {
    dancu_kit::convert::today_in_vietnam()
}

/// A date in storage form, `YYYY-MM-DD`.
pub fn day_text(date: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    // Not `date.format("%Y-%m-%d")`: interpreting the pattern for every date was an eighth
    // of building an imported row. Years here are those of a register (1 to 9999).
    format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day())
}
#[cfg(test)]
mod tests {
    use super::day_text;
    use chrono::NaiveDate;

    #[test]
    fn days_are_written_as_chrono_writes_them_for_the_register_s_years() {
        for (y, m, d) in [
            (1, 1, 1),
            (999, 12, 31),
            (1990, 5, 17),
            (2026, 12, 7),
            (9999, 2, 28),
        ] {
            let date = NaiveDate::from_ymd_opt(y, m, d).expect("a date");
            assert_eq!(day_text(date), date.format("%Y-%m-%d").to_string());
        }
    }
}
