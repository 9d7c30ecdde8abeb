//! A deterministic synthetic population for dancu, written as NDJSON.
//!
//! [`generate`] writes `count` citizens grouped in households (with residence histories and
//! family links), about 1 % foreigners and about 0.5 % subjects of police records, one
//! JSON object per line ([`record::Line`]). The same [`Settings`] always give the same
//! bytes: the only randomness is a ChaCha8 generator seeded from `seed`, whose output is
//! specified (unlike `StdRng`) and so stable across platforms and releases; nothing reads
//! the clock. People are written as they are made, so memory does not grow with `count`
//! (only a counter per birth province, sex and year is kept, to keep personal IDs unique).
//!
//! Every personal ID parses and agrees with its holder's sex, year of birth and province of
//! birth registration (`place_of_birth` names that province). No I/O beyond the sink.

pub mod names;
pub mod record;
mod stay;

use dancu_domain::{AreaTable, Commune, PersonalId, Sex, province::provinces};
use names::{
    ETHNICITIES, GIVEN_FEMALE, GIVEN_MALE, MIDDLE_FEMALE, MIDDLE_MALE, RELIGIONS, STREETS,
    SURNAMES, pick,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use record::{CitizenLine, ForeignerLine, Line, ResidenceLine, SubjectLine, TimelineLine};
use stay::StayMaker;
use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Number of citizens.
    pub count: u64,
    /// Seed of the random generator.
    pub seed: u64,
    /// The "current" year of the population: nobody is born after it, residences in force
    /// run past it. Fixed (not the clock) so the output depends on the settings only.
    pub year: i32,
}

impl Settings {
    /// `count` citizens from `seed`, as of 2025.
    #[must_use]
    pub fn new(count: u64, seed: u64) -> Self {
        Self {
            count,
            seed,
            year: 2025,
        }
    }
}

/// What was written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Citizen lines.
    pub citizens: u64,
    /// Households.
    pub households: u64,
    /// Foreigner lines.
    pub foreigners: u64,
    /// Subject lines.
    pub subjects: u64,
}

impl Summary {
    /// All lines written.
    #[must_use]
    pub fn lines(&self) -> u64 {
        self.citizens + self.foreigners + self.subjects
    }
}

/// Writes the population of `settings` to `sink`, one line at a time; `progress` is called
/// after each household with the number of citizens written so far.
///
/// # Errors
/// Whatever the sink returns.
pub fn generate<W: Write>(
    settings: Settings,
    sink: &mut W,
    mut progress: impl FnMut(u64),
) -> io::Result<Summary> {
    let mut generator = Generator::new(settings);
    let mut summary = Summary::default();
    let mut line = Vec::with_capacity(1024);
    let mut emit = |line_value: &Line, sink: &mut W| -> io::Result<()> {
        line.clear();
        serde_json::to_writer(&mut line, line_value).map_err(io::Error::other)?;
        line.push(b'\n');
        sink.write_all(&line)
    };
    while summary.citizens < settings.count {
        let left = settings.count - summary.citizens;
        let household = generator.household(left);
        summary.households += 1;
        for person in &household {
            emit(&Line::Citizen(person.clone()), sink)?;
            summary.citizens += 1;
            if generator.rng.gen_ratio(1, 200) {
                let subject = generator.subject(person);
                emit(&Line::Subject(subject), sink)?;
                summary.subjects += 1;
            }
        }
        if generator.rng.gen_ratio(1, 33) {
            let foreigner = generator.foreigner();
            emit(&Line::Foreigner(foreigner), sink)?;
            summary.foreigners += 1;
        }
        progress(summary.citizens);
    }
    sink.flush()?;
    Ok(summary)
}

/// Birth years and their weights: a rough Vietnamese age pyramid.
const BIRTH_DECADES: &[(i32, u32)] = &[
    (1930, 5),
    (1940, 15),
    (1950, 40),
    (1960, 80),
    (1970, 120),
    (1980, 150),
    (1990, 160),
    (2000, 150),
    (2010, 140),
];

/// Nationalities of foreigners, with weights.
const FOREIGN_NATIONALITIES: &[(&str, u32)] = &[
    ("KOR", 30),
    ("CHN", 30),
    ("JPN", 15),
    ("USA", 8),
    ("TWN", 10),
    ("FRA", 4),
    ("AUS", 4),
    ("DEU", 3),
    ("THA", 5),
    ("RUS", 4),
];

const FOREIGN_SURNAMES: &[&str] = &[
    "KIM", "LEE", "PARK", "WANG", "LI", "ZHANG", "SATO", "SUZUKI", "SMITH", "JOHNSON", "MARTIN",
    "MULLER", "IVANOV", "CHEN", "TANAKA",
];
const FOREIGN_GIVEN: &[&str] = &[
    "MIN JUN", "JI WOO", "WEI", "HAO", "YUKI", "HIROSHI", "JOHN", "MARY", "PIERRE", "ANNA", "OLGA",
    "DAVID", "SOPHIE", "KENJI", "LING",
];

/// Classes of subjects, with the legal basis their generated records cite.
const CLASSIFICATIONS: &[(&str, &str)] = &[
    ("criminal", "Bộ luật Tố tụng hình sự 2015"),
    ("drug_related", "Luật Phòng, chống ma túy 2021"),
    ("prior_conviction", "Bộ luật Hình sự 2015"),
    ("prior_violation", "Luật Xử lý vi phạm hành chính 2012"),
    ("suspicious_signs", "Luật Công an nhân dân 2018"),
    ("community_education", "Nghị định 120/2021/NĐ-CP"),
    ("post_rehabilitation", "Luật Thi hành án hình sự 2019"),
];
const SOURCES: &[&str] = &[
    "investigation",
    "judgment_enforcement",
    "operational",
    "administrative_violation",
];
/// Timeline events: their kind and summary.
const TIMELINE_EVENTS: &[(&str, &str)] = &[
    ("arrest", "Arrested after a report from the commune police"),
    ("charge", "Charged by the investigation agency"),
    ("administrative_violation", "Administrative fine issued"),
    ("conviction", "Convicted by the people's court"),
    (
        "supervision_check_in",
        "Reported to the commune police under supervision",
    ),
    ("temporary_absence", "Declared a temporary absence"),
    ("sentence_served", "Finished serving the sentence"),
];

/// Multiplier spreading the sequence numbers of one (province, sex, year) over the six
/// serial digits; coprime with 10^6, so distinct counters give distinct serials.
const SERIAL_STRIDE: u64 = 7_919;

struct Generator {
    settings: Settings,
    rng: ChaCha8Rng,
    /// Communes people live in, in code order.
    communes: Vec<&'static Commune>,
    /// Birth-registration codes (3 digits) per 2025 province code.
    birth_codes: HashMap<String, Vec<&'static str>>,
    /// Names of the provinces before 2025, by birth-registration code.
    province_names: HashMap<&'static str, &'static str>,
    /// Personal IDs issued per (province code, digit 4, year digits).
    issued: BTreeMap<(&'static str, u8, u8), u64>,
    /// Serial offset drawn from the seed.
    serial_offset: u64,
    households: u64,
    passports: u64,
    /// Foreigners' entry documents and declared stays (a random stream of their own).
    stays: StayMaker,
    /// Subjects made so far (numbers their decisions).
    subjects: u64,
}

/// The person being built, before it is written out.
struct Person {
    line: CitizenLine,
    sex: Sex,
    year: i32,
}

impl Generator {
    fn new(settings: Settings) -> Self {
        let table = AreaTable::builtin();
        let mut communes: Vec<&'static Commune> = table.communes().collect();
        communes.sort_by(|a, b| a.code.cmp(&b.code));
        let mut birth_codes: HashMap<String, Vec<&'static str>> = HashMap::new();
        let mut province_names = HashMap::new();
        for province in provinces() {
            province_names.insert(province.code, province.name_before_2025);
            if let Some(now) = table.province_of_birth_code(province.code) {
                birth_codes
                    .entry(now.code.clone())
                    .or_default()
                    .push(province.code);
            }
        }
        let mut rng = ChaCha8Rng::seed_from_u64(settings.seed);
        let serial_offset = rng.gen_range(0..1_000_000);
        Self {
            settings,
            rng,
            communes,
            birth_codes,
            province_names,
            issued: BTreeMap::new(),
            serial_offset,
            households: 0,
            passports: 0,
            stays: StayMaker::new(settings.seed),
            subjects: 0,
        }
    }

    /// A household of at most `left` people: a head, often a spouse, children.
    fn household(&mut self, left: u64) -> Vec<CitizenLine> {
        let size = match self.rng.gen_range(0..100) {
            0..15 => 1,
            15..35 => 2,
            35..57 => 3,
            57..82 => 4,
            82..94 => 5,
            _ => 6,
        }
        .min(left);
        self.households += 1;
        let key = format!("H{:08}", self.households);
        let commune = self.communes[self.rng.gen_range(0..self.communes.len())];
        let address = self.address();
        let moved_in = |rng: &mut ChaCha8Rng, born: i32, year: i32| {
            let start = (born + 18).clamp(1960, year);
            let moved = rng.gen_range(start..=year);
            date(rng, moved)
        };
        let head_sex = if (size > 1 && self.rng.gen_ratio(3, 4)) || self.rng.gen_bool(0.5) {
            Sex::Male
        } else {
            Sex::Female
        };
        let head_year = if size > 2 {
            self.rng
                .gen_range(1950..=(self.settings.year - 25).min(1995))
        } else {
            self.adult_year()
        };
        let surname = pick(&mut self.rng, SURNAMES);
        let mut head = self.person(head_sex, head_year, surname, commune, false);
        let since = moved_in(&mut self.rng, head_year, self.settings.year);
        head.line.relation = "head".to_owned();
        let mut members = vec![head];
        if size >= 2 {
            let spouse_year = (head_year + self.rng.gen_range(-5..=5)).min(self.settings.year - 18);
            let spouse_surname = pick(&mut self.rng, SURNAMES);
            let mut spouse = self.person(
                head_sex.other(),
                spouse_year,
                spouse_surname,
                commune,
                false,
            );
            spouse.line.relation = "spouse".to_owned();
            let (head_id, spouse_id) = (
                members[0].line.personal_id.clone(),
                spouse.line.personal_id.clone(),
            );
            members[0].line.spouse_id = spouse_id;
            members[0].line.marital_status = "married".to_owned();
            spouse.line.spouse_id = head_id;
            spouse.line.marital_status = "married".to_owned();
            members.push(spouse);
        }
        let (father, mother) = match (members.first(), members.get(1)) {
            (Some(a), Some(_)) if a.sex == Sex::Male => (Some(0), Some(1)),
            (Some(_), Some(_)) => (Some(1), Some(0)),
            (Some(a), None) if a.sex == Sex::Male => (Some(0), None),
            _ => (None, Some(0)),
        };
        let parent_year = members.iter().map(|m| m.year).max().unwrap_or(head_year);
        let child_surname = father
            .map(|i| surname_of(&members[i].line.full_name).to_owned())
            .unwrap_or_else(|| surname.to_owned());
        for _ in members.len() as u64..size {
            let first = (parent_year + 18).min(self.settings.year);
            let last = (parent_year + 42).min(self.settings.year);
            let year = self.rng.gen_range(first..=last);
            let sex = if self.rng.gen_bool(0.51) {
                Sex::Male
            } else {
                Sex::Female
            };
            let mut child = self.person(sex, year, &child_surname, commune, true);
            child.line.relation = "child".to_owned();
            if let Some(f) = father {
                child.line.father_id = members[f].line.personal_id.clone();
            }
            if let Some(m) = mother {
                child.line.mother_id = members[m].line.personal_id.clone();
            }
            members.push(child);
        }
        members
            .into_iter()
            .map(|mut member| {
                member.line.household = key.clone();
                let born_here = member.line.relation == "child";
                let from = if born_here {
                    member.line.date_of_birth.clone()
                } else {
                    since.clone()
                };
                member.line.residence = self.history(&member, commune, &address, from);
                member.line
            })
            .collect()
    }

    /// A residence history ending in the household's permanent residence from `from`,
    /// sometimes after an earlier one elsewhere, sometimes with a temporary residence in
    /// force.
    fn history(
        &mut self,
        person: &Person,
        commune: &Commune,
        address: &str,
        from: String,
    ) -> Vec<ResidenceLine> {
        let mut history = Vec::new();
        let from_year: i32 = from[..4].parse().unwrap_or(self.settings.year);
        if person.line.relation != "child"
            && from_year > person.year + 19
            && self.rng.gen_ratio(3, 10)
        {
            let earlier = self.communes[self.rng.gen_range(0..self.communes.len())];
            let year = self.rng_year(person.year + 18, from_year - 1);
            let start = date(&mut self.rng, year);
            history.push(ResidenceLine {
                kind: "permanent".to_owned(),
                commune: earlier.code.clone(),
                address: self.address(),
                from: start,
                until: day_before(&from),
            });
        }
        history.push(ResidenceLine {
            kind: "permanent".to_owned(),
            commune: commune.code.clone(),
            address: address.to_owned(),
            from,
            until: String::new(),
        });
        if person.line.life_status == "alive"
            && person.year <= self.settings.year - 16
            && self.rng.gen_ratio(2, 25)
        {
            let elsewhere = self.communes[self.rng.gen_range(0..self.communes.len())];
            let start_year = self.settings.year - self.rng.gen_range(0..2);
            history.push(ResidenceLine {
                kind: "temporary".to_owned(),
                commune: elsewhere.code.clone(),
                address: self.address(),
                from: date(&mut self.rng, start_year),
                until: format!("{}-12-31", self.settings.year + self.rng.gen_range(2..5)),
            });
        }
        history
    }

    fn rng_year(&mut self, low: i32, high: i32) -> i32 {
        if high <= low {
            low
        } else {
            self.rng.gen_range(low..=high)
        }
    }

    /// A birth year of an adult (18 or older).
    fn adult_year(&mut self) -> i32 {
        loop {
            let year = self.birth_year();
            if year <= self.settings.year - 18 {
                return year;
            }
        }
    }

    /// A birth year drawn from the age pyramid.
    fn birth_year(&mut self) -> i32 {
        let decade = pick(&mut self.rng, BIRTH_DECADES);
        (decade + self.rng.gen_range(0..10)).min(self.settings.year)
    }

    /// One person: born in `year`, living in `commune`; born in the commune's province when
    /// `local`, anywhere otherwise.
    fn person(
        &mut self,
        sex: Sex,
        year: i32,
        surname: &str,
        commune: &Commune,
        local: bool,
    ) -> Person {
        let (middle, given) = match sex {
            Sex::Male => (
                pick(&mut self.rng, MIDDLE_MALE),
                pick(&mut self.rng, GIVEN_MALE),
            ),
            Sex::Female => (
                pick(&mut self.rng, MIDDLE_FEMALE),
                pick(&mut self.rng, GIVEN_FEMALE),
            ),
        };
        let birth_code = match self.birth_codes.get(&commune.province_code) {
            Some(codes) if local || self.rng.gen_ratio(7, 10) => {
                codes[self.rng.gen_range(0..codes.len())]
            }
            _ => {
                let all = provinces();
                all[self.rng.gen_range(0..all.len())].code
            }
        };
        let home_code = if self.rng.gen_ratio(4, 5) {
            birth_code
        } else {
            let all = provinces();
            all[self.rng.gen_range(0..all.len())].code
        };
        let personal_id = self.personal_id(birth_code, sex, year);
        let date_of_birth = date(&mut self.rng, year);
        let deceased = year < 1960 && self.rng.gen_ratio(1, 20);
        let life_status_date = if deceased {
            let died = self.rng_year(year.max(2000), self.settings.year);
            date(&mut self.rng, died)
        } else {
            String::new()
        };
        let adult = year <= self.settings.year - 18;
        let phone = if adult && self.rng.gen_ratio(9, 10) {
            let prefix = [
                "090", "091", "093", "096", "097", "098", "086", "088", "070",
            ][self.rng.gen_range(0..9)];
            format!("{prefix}{:07}", self.rng.gen_range(0..10_000_000))
        } else {
            String::new()
        };
        let email = if adult && year >= 1975 && self.rng.gen_ratio(2, 5) {
            format!("user{}@example.vn", self.rng.gen_range(0..100_000_000u32))
        } else {
            String::new()
        };
        let blood_type = ["a", "b", "ab", "o", "", "o"][self.rng.gen_range(0..6)].to_owned();
        let line = CitizenLine {
            personal_id: personal_id.as_str().to_owned(),
            full_name: format!("{surname} {middle} {given}"),
            sex: match sex {
                Sex::Male => "male",
                Sex::Female => "female",
            }
            .to_owned(),
            date_of_birth,
            place_of_birth: self.province_names[birth_code].to_owned(),
            home_town: self.province_names[home_code].to_owned(),
            ethnicity: pick(&mut self.rng, ETHNICITIES).to_owned(),
            religion: pick(&mut self.rng, RELIGIONS).to_owned(),
            nationality: "VNM".to_owned(),
            blood_type,
            marital_status: if adult { "single" } else { "" }.to_owned(),
            phone,
            email,
            father_id: String::new(),
            mother_id: String::new(),
            spouse_id: String::new(),
            life_status: if deceased { "deceased" } else { "alive" }.to_owned(),
            life_status_date,
            household: String::new(),
            relation: String::new(),
            residence: Vec::new(),
        };
        Person { line, sex, year }
    }

    /// A personal ID unique in this population: the sequence number of the person among
    /// those of the same province, sex and year, spread over the six serial digits.
    fn personal_id(&mut self, code: &'static str, sex: Sex, year: i32) -> PersonalId {
        let digit4 = ((year - 1900) / 100 * 2) as u8 + u8::from(sex == Sex::Female);
        let year_digits = (year % 100) as u8;
        let counter = self.issued.entry((code, digit4, year_digits)).or_insert(0);
        // A start of its own per (province, sex, year), so serials do not repeat across
        // groups; within a group the stride keeps them distinct.
        let code_number: u64 = code.parse().unwrap_or(0);
        let group = (code_number * 1_000 + u64::from(digit4) * 100 + u64::from(year_digits))
            .wrapping_mul(104_729);
        let serial = (*counter * SERIAL_STRIDE + self.serial_offset + group) % 1_000_000;
        *counter += 1;
        PersonalId::parse(&format!("{code}{digit4}{year_digits:02}{serial:06}"))
            .expect("built from a known province code and digits")
    }

    fn address(&mut self) -> String {
        let street = STREETS[self.rng.gen_range(0..STREETS.len())];
        format!("Số {} {street}", self.rng.gen_range(1..300))
    }

    fn foreigner(&mut self) -> ForeignerLine {
        self.passports += 1;
        let nationality = pick(&mut self.rng, FOREIGN_NATIONALITIES);
        let sex = if self.rng.gen_bool(0.5) {
            "male"
        } else {
            "female"
        };
        let year = self.adult_year();
        let commune = self.communes[self.rng.gen_range(0..self.communes.len())];
        let serial = self.passports * SERIAL_STRIDE + self.serial_offset;
        // Drawn in the order of the fields of earlier releases, whose files these repeat.
        let full_name = format!(
            "{} {}",
            FOREIGN_SURNAMES[self.rng.gen_range(0..FOREIGN_SURNAMES.len())],
            FOREIGN_GIVEN[self.rng.gen_range(0..FOREIGN_GIVEN.len())]
        );
        let date_of_birth = date(&mut self.rng, year);
        let entry_date = date(&mut self.rng, self.settings.year);
        let address = self.address();
        let stay = self.stays.stay(&entry_date, serial);
        ForeignerLine {
            passport_number: format!("{}{:07}", &nationality[..1], serial % 10_000_000),
            nationality: nationality.to_owned(),
            full_name,
            sex: sex.to_owned(),
            date_of_birth,
            entry_date,
            commune: commune.code.clone(),
            address,
            document_type: stay.document_type.to_owned(),
            document_number: stay.document_number,
            document_valid_from: stay.document_valid_from,
            document_valid_until: stay.document_valid_until,
            host_name: stay.host_name.to_owned(),
            arrival: stay.arrival,
            planned_departure: stay.planned_departure,
            declared: stay.declared,
        }
    }

    fn subject(&mut self, person: &CitizenLine) -> SubjectLine {
        let province = person
            .residence
            .last()
            .map(|r| r.commune[..2].to_owned())
            .unwrap_or_else(|| "01".to_owned());
        let born: i32 = person.date_of_birth[..4]
            .parse()
            .unwrap_or(self.settings.year);
        let first = (born + 16).min(self.settings.year);
        let events = self.rng.gen_range(1..=4);
        let mut years: Vec<i32> = (0..events)
            .map(|_| self.rng_year(first, self.settings.year))
            .collect();
        years.sort_unstable();
        let timeline: Vec<TimelineLine> = years
            .into_iter()
            .map(|year| {
                let date = date(&mut self.rng, year);
                let source = SOURCES[self.rng.gen_range(0..SOURCES.len())].to_owned();
                let (kind, summary) = TIMELINE_EVENTS[self.rng.gen_range(0..TIMELINE_EVENTS.len())];
                TimelineLine {
                    date,
                    kind: kind.to_owned(),
                    source,
                    summary: summary.to_owned(),
                }
            })
            .collect();
        let (classification, legal_basis) =
            CLASSIFICATIONS[self.rng.gen_range(0..CLASSIFICATIONS.len())];
        self.subjects += 1;
        let owning_unit = format!("CAT-{province}");
        SubjectLine {
            personal_id: person.personal_id.clone(),
            classification: classification.to_owned(),
            since: timeline
                .iter()
                .map(|t| t.date.clone())
                .min()
                .unwrap_or_default(),
            legal_basis: legal_basis.to_owned(),
            reference: format!("{}/QD-{owning_unit}", self.subjects),
            owning_unit,
            timeline,
        }
    }
}

/// A day of `year` (days 1–28, so every month works).
fn date(rng: &mut ChaCha8Rng, year: i32) -> String {
    format!(
        "{year:04}-{:02}-{:02}",
        rng.gen_range(1..=12),
        rng.gen_range(1..=28)
    )
}

/// The day before `day` (`YYYY-MM-DD` with day 1–28, as [`date`] makes).
fn day_before(day: &str) -> String {
    let year: i32 = day[..4].parse().unwrap_or(1960);
    let month: u32 = day[5..7].parse().unwrap_or(1);
    let dom: u32 = day[8..10].parse().unwrap_or(1);
    match (dom, month) {
        (2.., _) => format!("{year:04}-{month:02}-{:02}", dom - 1),
        (_, 2..) => format!("{year:04}-{:02}-28", month - 1),
        _ => format!("{:04}-12-31", year - 1),
    }
}

fn surname_of(full_name: &str) -> &str {
    full_name.split(' ').next().unwrap_or(full_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_before_crosses_months_and_years() {
        assert_eq!(day_before("2020-03-15"), "2020-03-14");
        assert_eq!(day_before("2020-03-01"), "2020-02-28");
        assert_eq!(day_before("2020-01-01"), "2019-12-31");
    }

    #[test]
    fn counts_add_up() {
        let mut out = Vec::new();
        let summary = generate(Settings::new(2_000, 3), &mut out, |_| {}).unwrap();
        assert_eq!(summary.citizens, 2_000);
        let lines = out.iter().filter(|b| **b == b'\n').count() as u64;
        assert_eq!(lines, summary.lines());
        assert!(summary.foreigners > 0 && summary.subjects > 0);
        assert!(summary.households > 300 && summary.households < 1_000);
    }
}
