//! Unit tests for [`PersonalId`](super::PersonalId).

use super::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

fn id(s: &str) -> PersonalId {
    PersonalId::parse(s).expect("valid id")
}

#[test]
fn parses_hanoi_male_1999() {
    let p = id("001099012345");
    assert_eq!(p.as_str(), "001099012345");
    assert_eq!(p.province_code(), "001");
    assert_eq!(
        province_by_code(p.province_code())
            .unwrap()
            .name_before_2025,
        "Hà Nội"
    );
    assert_eq!(p.sex(), Sex::Male);
    assert_eq!(p.century_start(), 1900);
    assert_eq!(p.year_digits(), 99);
    assert_eq!(p.possible_birth_year(), 1999);
    assert_eq!("001099012345".parse::<PersonalId>(), Ok(p));
}

#[test]
fn parses_female_and_other_centuries() {
    assert_eq!(id("001199012345").sex(), Sex::Female);
    for (d, start, sex) in [
        ('0', 1900, Sex::Male),
        ('1', 1900, Sex::Female),
        ('2', 2000, Sex::Male),
        ('3', 2000, Sex::Female),
        ('4', 2100, Sex::Male),
        ('5', 2100, Sex::Female),
        ('6', 2200, Sex::Male),
        ('7', 2200, Sex::Female),
        ('8', 2300, Sex::Male),
        ('9', 2300, Sex::Female),
    ] {
        let p = id(&format!("001{d}05123456"));
        assert_eq!((p.century_start(), p.sex()), (start, sex), "digit {d}");
        assert_eq!(p.possible_birth_year(), start + 5);
    }
}

#[test]
fn rejects_wrong_length() {
    for (s, len) in [("", 0), ("00109901234", 11), ("0010990123456", 13)] {
        assert_eq!(
            PersonalId::parse(s),
            Err(PersonalIdError::WrongLength { len })
        );
    }
    // Length is counted in characters, not bytes.
    assert_eq!(
        PersonalId::parse("00109901234é"),
        Err(PersonalIdError::NotDigits)
    );
}

#[test]
fn rejects_non_digits() {
    for s in [
        "00109901234a",
        " 01099012345",
        "001-99012345",
        "００1099012345",
    ] {
        assert_eq!(
            PersonalId::parse(s),
            Err(PersonalIdError::NotDigits),
            "{s:?}"
        );
    }
}

#[test]
fn rejects_unknown_province() {
    assert_eq!(
        PersonalId::parse("003099012345"),
        Err(PersonalIdError::UnknownProvince)
    );
    assert_eq!(
        PersonalId::parse("000099012345"),
        Err(PersonalIdError::UnknownProvince)
    );
}

#[test]
fn debug_redacts_and_display_prints() {
    let p = id("001099012345");
    assert_eq!(format!("{p:?}"), "PersonalId(<redacted>)");
    assert_eq!(p.to_string(), "001099012345");
}

#[test]
fn error_messages_do_not_leak_input() {
    for s in ["00109901234", "00109901234x", "003099012345"] {
        let msg = PersonalId::parse(s).unwrap_err().to_string();
        assert!(!msg.contains(s), "{msg}");
        assert!(!msg.contains("0010990"), "{msg}");
    }
    assert_eq!(
        PersonalIdError::WrongLength { len: 11 }.to_string(),
        "personal identification number must be exactly 12 digits (got 11)"
    );
}

#[test]
fn consistency_checks() {
    let p = id("001099012345");
    assert_eq!(p.check_consistent(Sex::Male, 1999), Ok(()));
    assert_eq!(
        p.check_consistent(Sex::Female, 1999),
        Err(PersonalIdMismatch::Sex)
    );
    assert_eq!(
        p.check_consistent(Sex::Male, 2099),
        Err(PersonalIdMismatch::Century)
    );
    assert_eq!(
        p.check_consistent(Sex::Male, 1899),
        Err(PersonalIdMismatch::Century)
    );
    assert_eq!(
        p.check_consistent(Sex::Male, 1998),
        Err(PersonalIdMismatch::YearDigits)
    );
    let f = id("001300012345");
    assert_eq!(f.check_consistent(Sex::Female, 2000), Ok(()));
    assert_eq!(
        f.check_consistent(Sex::Female, 1999),
        Err(PersonalIdMismatch::Century)
    );
}

#[test]
fn generate_encodes_fields() {
    let mut rng = StdRng::seed_from_u64(7);
    let p = PersonalId::generate("079", Sex::Female, 2005, &mut rng).unwrap();
    assert_eq!(&p.as_str()[..6], "079305");
    assert_eq!(PersonalId::parse(p.as_str()), Ok(p.clone()));
    assert_eq!(p.check_consistent(Sex::Female, 2005), Ok(()));
    let p = PersonalId::generate("001", Sex::Male, 2399, &mut rng).unwrap();
    assert_eq!(&p.as_str()[..6], "001899");
}

#[test]
fn generate_rejects_bad_input() {
    let mut rng = StdRng::seed_from_u64(7);
    let gen_ =
        |code: &str, year, rng: &mut StdRng| PersonalId::generate(code, Sex::Male, year, rng);
    assert_eq!(
        gen_("003", 2000, &mut rng),
        Err(PersonalIdError::UnknownProvince)
    );
    assert_eq!(
        gen_("1", 2000, &mut rng),
        Err(PersonalIdError::UnknownProvince)
    );
    assert_eq!(
        gen_("001", 1899, &mut rng),
        Err(PersonalIdError::YearOutOfRange)
    );
    assert_eq!(
        gen_("001", 2400, &mut rng),
        Err(PersonalIdError::YearOutOfRange)
    );
}

#[test]
fn mismatch_messages() {
    assert_eq!(
        PersonalIdMismatch::Sex.to_string(),
        "digit 4 encodes a different sex"
    );
    assert_eq!(
        PersonalIdMismatch::Century.to_string(),
        "digit 4 encodes a century that does not contain the birth year"
    );
    assert_eq!(
        PersonalIdMismatch::YearDigits.to_string(),
        "digits 5-6 do not match the last two digits of the birth year"
    );
}
