//! Property tests for the personal identification number.

use dancu_domain::{PersonalId, PersonalIdError, PersonalIdMismatch, Sex, provinces};
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

fn province_code() -> impl Strategy<Value = &'static str> {
    prop::sample::select(provinces().iter().map(|p| p.code).collect::<Vec<_>>())
}

fn sex() -> impl Strategy<Value = Sex> {
    prop_oneof![Just(Sex::Male), Just(Sex::Female)]
}

fn generated() -> impl Strategy<Value = (PersonalId, &'static str, Sex, i32)> {
    (province_code(), sex(), 1900..=2399i32, any::<u64>()).prop_map(|(code, sex, year, seed)| {
        let mut rng = StdRng::seed_from_u64(seed);
        let id = PersonalId::generate(code, sex, year, &mut rng).expect("valid inputs");
        (id, code, sex, year)
    })
}

proptest! {
    #[test]
    fn generated_ids_parse_and_are_consistent((id, code, sex, year) in generated()) {
        let parsed = PersonalId::parse(id.as_str()).expect("generated id parses");
        prop_assert_eq!(&parsed, &id);
        prop_assert_eq!(parsed.province_code(), code);
        prop_assert_eq!(parsed.sex(), sex);
        prop_assert_eq!(parsed.possible_birth_year(), year);
        prop_assert_eq!(i32::from(parsed.year_digits()), year % 100);
        prop_assert_eq!(parsed.century_start(), year - year % 100);
        prop_assert_eq!(parsed.check_consistent(sex, year), Ok(()));
    }

    #[test]
    fn flipping_digit_4_parity_is_a_sex_mismatch((id, _code, sex, year) in generated()) {
        let mut digits = id.as_str().as_bytes().to_vec();
        digits[3] ^= 1; // ASCII '0'..'9' differ from their partner only in bit 0.
        let flipped = PersonalId::parse(std::str::from_utf8(&digits).unwrap()).unwrap();
        prop_assert_eq!(flipped.sex(), sex.other());
        prop_assert_eq!(flipped.century_start(), id.century_start());
        prop_assert_eq!(flipped.check_consistent(sex, year), Err(PersonalIdMismatch::Sex));
    }

    #[test]
    fn wrong_length_is_rejected(s in "\\PC{0,30}") {
        let len = s.chars().count();
        prop_assume!(len != 12);
        prop_assert_eq!(PersonalId::parse(&s), Err(PersonalIdError::WrongLength { len }));
    }

    #[test]
    fn any_non_digit_is_rejected(
        digits in "[0-9]{12}",
        pos in 0usize..12,
        bad in any::<char>().prop_filter("non-digit", |c| !c.is_ascii_digit()),
    ) {
        let s: String = digits
            .chars()
            .enumerate()
            .map(|(i, c)| if i == pos { bad } else { c })
            .collect();
        prop_assert_eq!(PersonalId::parse(&s), Err(PersonalIdError::NotDigits));
    }
}
