//! The stay of a generated foreigner: entry document and accommodation declaration.
//!
//! Drawn from a random stream of its own (stream 1 of the seed), so the rest of the file
//! — citizens, subjects and the foreigners' identities — is the same bytes as before
//! foreigners had stays.

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Hosts of declared stays: hotels, guest houses, rented homes.
const HOSTS: &[&str] = &[
    "Khách sạn Sao Mai",
    "Khách sạn Hoàng Gia",
    "Khách sạn Bình Minh",
    "Nhà nghỉ Hoa Hồng",
    "Nhà nghỉ Thanh Bình",
    "Homestay Phố Cổ",
    "Căn hộ dịch vụ An Phú",
    "Khu nghỉ dưỡng Biển Xanh",
];

/// Share of declarations received after the 12-hour deadline, per thousand.
const LATE_PER_THOUSAND: u32 = 30;

/// A foreigner's entry document and declared accommodation; times in Vietnam time (UTC+7),
/// RFC 3339.
pub struct Stay {
    /// `visa`, `temporary_residence_card` or `permanent_residence_card`.
    pub document_type: &'static str,
    /// Document number.
    pub document_number: String,
    /// First day of validity.
    pub document_valid_from: String,
    /// Last day of validity; empty for a permanent residence card.
    pub document_valid_until: String,
    /// Host or establishment.
    pub host_name: &'static str,
    /// Arrival at the accommodation.
    pub arrival: String,
    /// Planned departure.
    pub planned_departure: String,
    /// When the declaration was received.
    pub declared: String,
}

/// Makes stays from its own random stream.
pub struct StayMaker {
    rng: ChaCha8Rng,
}

impl StayMaker {
    /// The stays of the file generated with `seed`.
    pub fn new(seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(1);
        Self { rng }
    }

    /// The stay of the foreigner who entered on `entry_date` (`YYYY-MM-DD`); `serial`
    /// numbers the document (unique per file, as passport numbers are).
    pub fn stay(&mut self, entry_date: &str, serial: u64) -> Stay {
        let entry = NaiveDate::parse_from_str(entry_date, "%Y-%m-%d")
            .unwrap_or(NaiveDate::MIN)
            .max(NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(NaiveDate::MIN));
        let (document_type, prefix, valid_from, valid_until) = match self.rng.gen_range(0..100) {
            0..70 => ("visa", "V", entry, Some(entry + Duration::days(89))),
            70..95 => {
                let from = entry - Duration::days(self.rng.gen_range(0..700));
                (
                    "temporary_residence_card",
                    "TT",
                    from,
                    Some(from + Duration::days(730)),
                )
            }
            _ => (
                "permanent_residence_card",
                "TH",
                entry - Duration::days(self.rng.gen_range(0..3000)),
                None,
            ),
        };
        let arrival = NaiveDateTime::new(
            entry + Duration::days(self.rng.gen_range(0..3)),
            NaiveTime::from_hms_opt(self.rng.gen_range(7..23), self.rng.gen_range(0..60), 0)
                .unwrap_or(NaiveTime::MIN),
        );
        let received = if self.rng.gen_ratio(LATE_PER_THOUSAND, 1000) {
            arrival + Duration::minutes(self.rng.gen_range(13 * 60..72 * 60))
        } else {
            arrival + Duration::minutes(self.rng.gen_range(5..11 * 60))
        };
        let departure = NaiveDateTime::new(
            arrival.date() + Duration::days(self.rng.gen_range(2..30)),
            NaiveTime::from_hms_opt(12, 0, 0).unwrap_or(NaiveTime::MIN),
        );
        Stay {
            document_type,
            document_number: format!("{prefix}{:07}", serial % 10_000_000),
            document_valid_from: valid_from.format("%Y-%m-%d").to_string(),
            document_valid_until: valid_until
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            host_name: HOSTS[self.rng.gen_range(0..HOSTS.len())],
            arrival: vietnam_time(arrival),
            planned_departure: vietnam_time(departure),
            declared: vietnam_time(received),
        }
    }
}

fn vietnam_time(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%S+07:00").to_string()
}
