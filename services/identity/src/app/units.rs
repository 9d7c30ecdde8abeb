//! The police unit tree: the Ministry ("BCA") with its departments (C06 manages the
//! population database) → 34 provincial police ("CAT-<province>") → commune police
//! ("CAX-<commune>"). Seeded at first start from the area table; kept in memory (it is
//! small) and reloaded after every change.

use super::IdentityError;
use crate::store::{IdentityStore, InsertError, UnitRow};
use dancu_domain::AreaTable;
use dancu_policy::{AreaPath, NATION};
use std::collections::BTreeMap;
use std::sync::RwLock;

/// Code of the Ministry of Public Security, the root unit.
pub const MINISTRY: &str = "BCA";
/// Code of department C06 (administrative police for social order; manages the population
/// database).
pub const C06: &str = "BCA-C06";

/// What can go wrong administering units, officers and tokens.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// No such unit.
    #[error("no unit with this code")]
    UnitNotFound,
    /// No such officer.
    #[error("no officer with this id")]
    OfficerNotFound,
    /// The unit code is taken.
    #[error("a unit with this code already exists")]
    UnitExists,
    /// The username is taken.
    #[error("this username is taken")]
    UsernameTaken,
    /// The policies refuse it.
    #[error("your roles and unit do not allow this operation")]
    Denied,
    /// Unknown, used or expired refresh token, or a disabled account.
    #[error("invalid or expired refresh token")]
    InvalidRefresh,
}

impl AccessError {
    /// The gRPC status of this error.
    pub fn status(&self) -> tonic::Status {
        use tonic::Status;
        let message = self.to_string();
        match self {
            Self::UnitNotFound | Self::OfficerNotFound => Status::not_found(message),
            Self::UnitExists | Self::UsernameTaken => Status::already_exists(message),
            Self::Denied => Status::permission_denied(message),
            Self::InvalidRefresh => Status::unauthenticated(message),
        }
    }
}

/// The unit tree, cached.
pub struct UnitTree {
    store: IdentityStore,
    areas: &'static AreaTable,
    units: RwLock<BTreeMap<String, UnitRow>>,
}

impl UnitTree {
    /// Loads the tree, seeding the Ministry, C06, the provincial police of every province
    /// and the commune police of every commune of `areas` when the table is empty.
    pub async fn open(
        store: IdentityStore,
        areas: &'static AreaTable,
    ) -> Result<Self, IdentityError> {
        let tree = Self {
            store,
            areas,
            units: RwLock::new(BTreeMap::new()),
        };
        if tree.store.unit_count().await? == 0 {
            tree.seed().await?;
        }
        tree.reload().await?;
        Ok(tree)
    }

    async fn seed(&self) -> Result<(), IdentityError> {
        let now = chrono::Utc::now().timestamp_micros();
        let mut rows = vec![
            UnitRow {
                code: MINISTRY.to_owned(),
                name: "Bộ Công an".to_owned(),
                parent_code: None,
                area_code: NATION.to_owned(),
                created_us: now,
            },
            UnitRow {
                code: C06.to_owned(),
                name: "Cục Cảnh sát quản lý hành chính về trật tự xã hội (C06)".to_owned(),
                parent_code: Some(MINISTRY.to_owned()),
                area_code: NATION.to_owned(),
                created_us: now,
            },
        ];
        for province in self.areas.provinces() {
            rows.push(UnitRow {
                code: province_unit(&province.code),
                name: format!("Công an {}", province.name),
                parent_code: Some(MINISTRY.to_owned()),
                area_code: province.code.clone(),
                created_us: now,
            });
        }
        for commune in self.areas.communes() {
            rows.push(UnitRow {
                code: format!("CAX-{}", commune.code),
                name: format!("Công an {}", commune.name),
                parent_code: Some(province_unit(&commune.province_code)),
                area_code: commune.code.clone(),
                created_us: now,
            });
        }
        for row in rows {
            match self.store.insert_unit(row).await {
                // Another instance seeds concurrently.
                Ok(()) | Err(InsertError::Duplicate) => {}
                Err(InsertError::Db(e)) => return Err(e.into()),
            }
        }
        Ok(())
    }

    async fn reload(&self) -> Result<(), IdentityError> {
        let units = self.store.units().await?;
        *self.units.write().unwrap_or_else(|e| e.into_inner()) =
            units.into_iter().map(|u| (u.code.clone(), u)).collect();
        Ok(())
    }

    /// The area table units refer to.
    pub fn areas(&self) -> &'static AreaTable {
        self.areas
    }

    /// One unit.
    pub fn unit(&self, code: &str) -> Option<UnitRow> {
        self.units
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(code)
            .cloned()
    }

    /// A unit and its ancestors, the unit first; `None` for an unknown unit.
    pub fn path(&self, code: &str) -> Option<Vec<String>> {
        let units = self.units.read().unwrap_or_else(|e| e.into_inner());
        let mut path = vec![units.get(code)?.code.clone()];
        let mut current = units.get(code)?;
        while let Some(parent) = current.parent_code.as_ref().and_then(|p| units.get(p)) {
            if path.contains(&parent.code) {
                break; // a cycle would be corruption; stop rather than loop
            }
            path.push(parent.code.clone());
            current = parent;
        }
        Some(path)
    }

    /// The area path of a unit's area; `None` for unknown units (e.g. service accounts).
    pub fn jurisdiction(&self, code: &str) -> Option<AreaPath> {
        AreaPath::resolve(&self.unit(code)?.area_code, self.areas)
    }

    /// A unit and every unit below it, by code.
    pub fn subtree(&self, root: &str) -> Vec<UnitRow> {
        let units = self.units.read().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<UnitRow> = Vec::new();
        let mut frontier = vec![root.to_owned()];
        while let Some(code) = frontier.pop() {
            if let Some(unit) = units.get(&code)
                && !out.iter().any(|u| u.code == code)
            {
                out.push(unit.clone());
                frontier.extend(
                    units
                        .values()
                        .filter(|u| u.parent_code.as_deref() == Some(code.as_str()))
                        .map(|u| u.code.clone()),
                );
            }
        }
        out.sort_by(|a, b| a.code.cmp(&b.code));
        out
    }

    /// Adds a unit and reloads the tree.
    pub async fn insert(&self, row: UnitRow) -> Result<(), IdentityError> {
        match self.store.insert_unit(row).await {
            Ok(()) => {}
            Err(InsertError::Duplicate) => return Err(AccessError::UnitExists.into()),
            Err(InsertError::Db(e)) => return Err(e.into()),
        }
        self.reload().await
    }
}

/// Code of the provincial police unit of a province.
pub fn province_unit(province_code: &str) -> String {
    format!("CAT-{province_code}")
}
