//! Vietnamese name tables with rough frequencies, and weighted picks from them.
//!
//! Surname weights follow the commonly cited shares of the Vietnamese population (Nguyễn
//! about 38 %, Trần 11 %, Lê 9.5 %, Phạm 7 %, …); middle and given names are weighted so
//! that the classic patterns (Văn for men, Thị for women, Anh, Linh, Minh…) dominate. All
//! text is Unicode NFC.

use rand::Rng;

/// A value and its weight (relative frequency).
pub type Weighted<T> = (T, u32);

/// Surnames (họ), weight per 1,000 people.
pub const SURNAMES: &[Weighted<&str>] = &[
    ("Nguyễn", 380),
    ("Trần", 110),
    ("Lê", 95),
    ("Phạm", 71),
    ("Hoàng", 31),
    ("Huỳnh", 20),
    ("Phan", 45),
    ("Vũ", 22),
    ("Võ", 17),
    ("Đặng", 21),
    ("Bùi", 20),
    ("Đỗ", 14),
    ("Hồ", 13),
    ("Ngô", 13),
    ("Dương", 10),
    ("Lý", 5),
    ("Đinh", 8),
    ("Đào", 7),
    ("Trương", 7),
    ("Lương", 5),
    ("Mai", 5),
    ("Trịnh", 5),
    ("Tạ", 3),
    ("Lâm", 4),
    ("Hà", 5),
    ("Cao", 4),
    ("Châu", 2),
    ("Tô", 2),
    ("Quách", 1),
    ("Thái", 2),
];

/// Middle names (tên đệm) of men.
pub const MIDDLE_MALE: &[Weighted<&str>] = &[
    ("Văn", 400),
    ("Hữu", 80),
    ("Đức", 90),
    ("Minh", 110),
    ("Quang", 70),
    ("Công", 50),
    ("Thành", 40),
    ("Xuân", 30),
    ("Ngọc", 25),
    ("Thanh", 35),
    ("Gia", 30),
    ("Tuấn", 20),
    ("Hoàng", 20),
];

/// Middle names (tên đệm) of women.
pub const MIDDLE_FEMALE: &[Weighted<&str>] = &[
    ("Thị", 450),
    ("Ngọc", 90),
    ("Thu", 60),
    ("Thanh", 60),
    ("Mai", 30),
    ("Kim", 40),
    ("Minh", 40),
    ("Phương", 30),
    ("Bảo", 25),
    ("Khánh", 25),
    ("Hồng", 40),
    ("Diệu", 20),
    ("Thùy", 30),
];

/// Given names (tên) of men.
pub const GIVEN_MALE: &[Weighted<&str>] = &[
    ("Anh", 60),
    ("Bình", 25),
    ("Cường", 30),
    ("Dũng", 45),
    ("Đạt", 35),
    ("Hải", 40),
    ("Hùng", 50),
    ("Huy", 50),
    ("Khánh", 25),
    ("Long", 40),
    ("Minh", 60),
    ("Nam", 45),
    ("Phong", 25),
    ("Quân", 30),
    ("Sơn", 35),
    ("Tâm", 20),
    ("Thành", 40),
    ("Tuấn", 55),
    ("Việt", 20),
    ("Vinh", 20),
    ("Hiếu", 30),
    ("Trung", 35),
    ("Thắng", 30),
    ("Phúc", 25),
    ("Khoa", 20),
    ("Đức", 30),
    ("Toàn", 20),
    ("Lộc", 15),
    ("Tùng", 20),
    ("Ân", 10),
];

/// Given names (tên) of women.
pub const GIVEN_FEMALE: &[Weighted<&str>] = &[
    ("Anh", 55),
    ("Bích", 15),
    ("Châu", 15),
    ("Dung", 30),
    ("Giang", 25),
    ("Hà", 35),
    ("Hạnh", 30),
    ("Hoa", 35),
    ("Hương", 50),
    ("Lan", 40),
    ("Linh", 55),
    ("Loan", 20),
    ("Mai", 40),
    ("Ngân", 20),
    ("Nhung", 25),
    ("Phương", 35),
    ("Quỳnh", 30),
    ("Thảo", 45),
    ("Trang", 50),
    ("Yến", 25),
    ("Hằng", 35),
    ("Huyền", 35),
    ("Ngọc", 25),
    ("Nhi", 30),
    ("Vy", 25),
    ("Tuyết", 15),
    ("Oanh", 15),
    ("Thủy", 30),
    ("Liên", 20),
    ("Ánh", 15),
];

/// Ethnic groups (dân tộc), weight per 1,000 people.
pub const ETHNICITIES: &[Weighted<&str>] = &[
    ("Kinh", 853),
    ("Tày", 19),
    ("Thái", 18),
    ("Mường", 15),
    ("Khmer", 14),
    ("Hoa", 8),
    ("Nùng", 11),
    ("H'Mông", 13),
    ("Dao", 9),
    ("Gia Rai", 5),
    ("Ê Đê", 4),
    ("Ba Na", 3),
    ("Chăm", 2),
];

/// Religions (tôn giáo); empty means none.
pub const RELIGIONS: &[Weighted<&str>] = &[
    ("", 820),
    ("Phật giáo", 80),
    ("Công giáo", 65),
    ("Cao Đài", 12),
    ("Tin Lành", 10),
    ("Phật giáo Hòa Hảo", 13),
];

/// Street names for generated addresses.
pub const STREETS: &[&str] = &[
    "Lê Lợi",
    "Trần Hưng Đạo",
    "Nguyễn Huệ",
    "Hai Bà Trưng",
    "Lý Thường Kiệt",
    "Điện Biên Phủ",
    "Phan Đình Phùng",
    "Quang Trung",
    "Hùng Vương",
    "Lê Duẩn",
    "Nguyễn Trãi",
    "Bà Triệu",
    "Võ Thị Sáu",
    "Nguyễn Du",
    "Hoàng Diệu",
    "Trường Chinh",
];

/// Picks from a weighted table.
pub fn pick<T: Copy, R: Rng + ?Sized>(rng: &mut R, table: &[Weighted<T>]) -> T {
    let total: u32 = table.iter().map(|(_, w)| w).sum();
    let mut n = rng.gen_range(0..total);
    for (value, weight) in table {
        if n < *weight {
            return *value;
        }
        n -= weight;
    }
    table[table.len() - 1].0
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_check::is_nfc;

    mod unicode_check {
        /// Whether the text is already in the form the register stores (NFC, single
        /// spaces), judged by the domain's own normaliser.
        pub fn is_nfc(text: &str) -> bool {
            dancu_domain::normalize_full_name(text).as_deref() == Ok(text)
        }
    }

    #[test]
    fn every_name_part_is_stored_unchanged() {
        for table in [
            SURNAMES,
            MIDDLE_MALE,
            MIDDLE_FEMALE,
            GIVEN_MALE,
            GIVEN_FEMALE,
        ] {
            for (name, weight) in table {
                assert!(is_nfc(name), "{name} is not in stored form");
                assert!(*weight > 0);
            }
        }
    }

    #[test]
    fn nguyen_is_the_most_common_surname() {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let n = 20_000;
        let nguyen = (0..n)
            .filter(|_| pick(&mut rng, SURNAMES) == "Nguyễn")
            .count();
        let share = nguyen as f64 / n as f64;
        assert!((0.33..0.43).contains(&share), "share {share}");
    }
}
