//! Bulk import of foreigners, each with the accommodation declaration a source register
//! holds for them, in multi-row statements (written by hand for the reason given in
//! `import.rs`). Foreigners go in with `ON CONFLICT (nationality, passport_number) DO
//! NOTHING RETURNING id`, so the insert itself tells which rows are new; only their
//! declarations are inserted. Re-running an import therefore changes nothing.

use super::import::{Field, bound_chunks, insert_all, insert_sql};
use super::{DeclarationRow, ForeignerRow, IdentityStore};
use sea_orm::{ConnectionTrait, DbErr, Statement};
use std::collections::HashSet;

/// One foreigner to import, with their declaration if the source has one.
#[derive(Debug, Clone)]
pub struct ForeignerImportRow {
    /// The foreigner (its id freshly made).
    pub foreigner: ForeignerRow,
    /// The declaration, naming the foreigner's id.
    pub declaration: Option<DeclarationRow>,
}

const FOREIGNER_COLUMNS: [&str; 14] = [
    "id",
    "nationality",
    "passport_number",
    "full_name",
    "name_key",
    "sex",
    "birth_date",
    "document_kind",
    "document_number",
    "document_valid_from",
    "document_valid_until",
    "created_by",
    "created_us",
    "version",
];

/// The values of `row` in the order of [`FOREIGNER_COLUMNS`].
fn foreigner_fields(row: &ForeignerRow) -> [Field<'_>; 14] {
    [
        Field::Text(&row.id),
        Field::Text(&row.nationality),
        Field::Text(&row.passport_number),
        Field::Text(&row.full_name),
        Field::Text(&row.name_key),
        Field::Text(&row.sex),
        Field::Text(&row.birth_date),
        Field::Text(&row.document_kind),
        Field::Text(&row.document_number),
        Field::Text(&row.document_valid_from),
        Field::OptText(row.document_valid_until.as_deref()),
        Field::Text(&row.created_by),
        Field::BigInt(row.created_us),
        Field::BigInt(row.version),
    ]
}

const DECLARATION_COLUMNS: [&str; 13] = [
    "id",
    "foreigner_id",
    "host_name",
    "commune_code",
    "address",
    "arrival_us",
    "planned_departure_us",
    "end_us",
    "remote_area",
    "received_us",
    "late",
    "checked_out_us",
    "declared_by",
];

/// The values of `row` in the order of [`DECLARATION_COLUMNS`].
fn declaration_fields(row: &DeclarationRow) -> [Field<'_>; 13] {
    [
        Field::Text(&row.id),
        Field::Text(&row.foreigner_id),
        Field::Text(&row.host_name),
        Field::Text(&row.commune_code),
        Field::Text(&row.address),
        Field::BigInt(row.arrival_us),
        Field::BigInt(row.planned_departure_us),
        Field::BigInt(row.end_us),
        Field::Bool(row.remote_area),
        Field::BigInt(row.received_us),
        Field::Bool(row.late),
        Field::OptBigInt(row.checked_out_us),
        Field::Text(&row.declared_by),
    ]
}

impl IdentityStore {
    /// Inserts the foreigners of `rows` not yet registered (by nationality and passport
    /// number), with their declarations, through `conn` (a write transaction). Returns the
    /// ids of the foreigners inserted; the others were already there (or repeated in
    /// `rows`: the first row wins) and are left unchanged, their declarations dropped.
    pub async fn import_foreigners<C: ConnectionTrait>(
        &self,
        conn: &C,
        rows: Vec<ForeignerImportRow>,
    ) -> Result<HashSet<String>, DbErr> {
        let backend = conn.get_database_backend();
        let mut inserted = HashSet::new();
        for (count, values) in bound_chunks(rows.iter().map(|row| foreigner_fields(&row.foreigner)))
        {
            let sql = format!(
                "{} ON CONFLICT (nationality, passport_number) DO NOTHING RETURNING id",
                insert_sql(backend, "foreigners", &FOREIGNER_COLUMNS, count)
            );
            for returned in conn
                .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
                .await?
            {
                inserted.insert(returned.try_get_by_index::<String>(0)?);
            }
        }
        // Only the foreigners just inserted get their declarations.
        let declarations = rows
            .iter()
            .filter_map(|row| row.declaration.as_ref())
            .filter(|d| inserted.contains(&d.foreigner_id));
        insert_all(
            conn,
            "accommodation_declarations",
            &DECLARATION_COLUMNS,
            declarations.map(declaration_fields),
        )
        .await?;
        Ok(inserted)
    }
}
