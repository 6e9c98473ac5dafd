//! Files, received and stored. An `uploads` row is a file a signed-in user sent (its object
//! already in the store, under its SHA-256), waiting to be attached; `case_documents` are a
//! dossier's files, immutable: a replacement is a new row (`version` + 1, `replaces` naming
//! the old one, which stays). Objects are content-addressed, so one object may back several
//! rows; the orphan job deletes an object only when no row names its hash.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Uploads::Table)
                .if_not_exists()
                .col(uuid(Uploads::Id).primary_key())
                .col(uuid(Uploads::AccountId))
                .col(string_len(Uploads::Sha256, 64))
                .col(big_integer(Uploads::Size))
                .col(string(Uploads::MediaType))
                .col(text(Uploads::FileName))
                .col(timestamp_with_time_zone(Uploads::CreatedAt))
                // Set when a dossier took it; unattached ones are deleted after 24 h.
                .col(timestamp_with_time_zone_null(Uploads::AttachedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_uploads_unattached")
                .table(Uploads::Table)
                .col(Uploads::AttachedAt)
                .col(Uploads::CreatedAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_uploads_sha256")
                .table(Uploads::Table)
                .col(Uploads::Sha256)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(CaseDocuments::Table)
                .if_not_exists()
                .col(uuid(CaseDocuments::Id).primary_key())
                .col(big_integer(CaseDocuments::CaseId))
                .col(string_len(CaseDocuments::Kind, 64))
                .col(text(CaseDocuments::FileName))
                .col(string_len(CaseDocuments::Sha256, 64))
                .col(big_integer(CaseDocuments::Size))
                .col(string(CaseDocuments::MediaType))
                .col(boolean(CaseDocuments::Digitised))
                .col(integer(CaseDocuments::Version))
                .col(uuid_null(CaseDocuments::Replaces))
                .col(uuid_null(CaseDocuments::ReusedFrom))
                // The applicant's account, for reuse in a later dossier.
                .col(uuid_null(CaseDocuments::ApplicantAccount))
                .col(uuid_null(CaseDocuments::UploadedBy))
                .col(string_len(CaseDocuments::UploadedByRole, 32))
                .col(timestamp_with_time_zone(CaseDocuments::UploadedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(CaseDocuments::Table, CaseDocuments::CaseId)
                        .to(Cases::Table, Cases::Id),
                )
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("idx_case_documents_case", CaseDocuments::CaseId),
            ("idx_case_documents_sha256", CaseDocuments::Sha256),
            (
                "idx_case_documents_applicant",
                CaseDocuments::ApplicantAccount,
            ),
            ("idx_case_documents_reused_from", CaseDocuments::ReusedFrom),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(CaseDocuments::Table)
                    .col(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(CaseDocuments::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Uploads::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Uploads {
    Table,
    Id,
    AccountId,
    Sha256,
    Size,
    MediaType,
    FileName,
    CreatedAt,
    AttachedAt,
}

#[derive(DeriveIden)]
enum CaseDocuments {
    Table,
    Id,
    CaseId,
    Kind,
    FileName,
    Sha256,
    Size,
    MediaType,
    Digitised,
    Version,
    Replaces,
    ReusedFrom,
    ApplicantAccount,
    UploadedBy,
    UploadedByRole,
    UploadedAt,
}

#[derive(DeriveIden)]
enum Cases {
    Table,
    Id,
}
