//! Bulk import of foreigners, each with the accommodation declaration a source register
//! holds for them, in multi-row statements (written by hand for the reason given in
//! `import.rs`). Foreigners go in with `ON CONFLICT (nationality, passport_number) DO
//! NOTHING RETURNING id`, so the insert itself tells which rows are new; only their
//! declarations are inserted. Re-running an import therefore changes nothing.

use super::import::{ROWS_PER_STATEMENT, insert_all, insert_sql};
use super::{DeclarationRow, ForeignerRow, IdentityStore};
use sea_orm::{ConnectionTrait, DbErr, Statement, Value};
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

fn foreigner_values(row: ForeignerRow, out: &mut Vec<Value>) {
    let text = |s: String| Value::String(Some(s));
    out.extend([
        text(row.id),
        text(row.nationality),
        text(row.passport_number),
        text(row.full_name),
        text(row.name_key),
        text(row.sex),
        text(row.birth_date),
        text(row.document_kind),
        text(row.document_number),
        text(row.document_valid_from),
        Value::String(row.document_valid_until),
        text(row.created_by),
        Value::BigInt(Some(row.created_us)),
        Value::BigInt(Some(row.version)),
    ]);
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

fn declaration_values(row: DeclarationRow, out: &mut Vec<Value>) {
    let text = |s: String| Value::String(Some(s));
    out.extend([
        text(row.id),
        text(row.foreigner_id),
        text(row.host_name),
        text(row.commune_code),
        text(row.address),
        Value::BigInt(Some(row.arrival_us)),
        Value::BigInt(Some(row.planned_departure_us)),
        Value::BigInt(Some(row.end_us)),
        Value::Bool(Some(row.remote_area)),
        Value::BigInt(Some(row.received_us)),
        Value::Bool(Some(row.late)),
        Value::BigInt(row.checked_out_us),
        text(row.declared_by),
    ]);
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
        let (foreigners, declarations): (Vec<ForeignerRow>, Vec<Option<DeclarationRow>>) = rows
            .into_iter()
            .map(|row| (row.foreigner, row.declaration))
            .unzip();
        let mut inserted = HashSet::new();
        let mut foreigners = foreigners.into_iter().peekable();
        while foreigners.peek().is_some() {
            let mut values = Vec::with_capacity(ROWS_PER_STATEMENT * FOREIGNER_COLUMNS.len());
            let mut count = 0;
            for row in foreigners.by_ref().take(ROWS_PER_STATEMENT) {
                foreigner_values(row, &mut values);
                count += 1;
            }
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
        let declarations = declarations
            .into_iter()
            .flatten()
            .filter(|d| inserted.contains(&d.foreigner_id));
        insert_all(
            conn,
            "accommodation_declarations",
            &DECLARATION_COLUMNS,
            declarations,
            declaration_values,
        )
        .await?;
        Ok(inserted)
    }
}
