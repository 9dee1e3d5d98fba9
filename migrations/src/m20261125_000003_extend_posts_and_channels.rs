//! The post lifecycle and the profile: visibility, schedules, pins, tags and interaction
//! policies on posts; profile fields, default language, policies and images on channels;
//! uploaded media; extra recipients (mentions) of a fan-out; API idempotency keys.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000003_extend_posts_and_channels"
    }
}

#[derive(DeriveIden)]
enum Posts {
    Table,
    Visibility,
    ScheduledAt,
    PinnedAt,
    Tags,
    Mentions,
    Policy,
}

#[derive(DeriveIden)]
enum Channels {
    Table,
    Fields,
    DefaultLanguage,
    Policy,
    AvatarId,
    HeaderId,
}

#[derive(DeriveIden)]
enum Fanouts {
    Table,
    ExtraInboxes,
}

#[derive(DeriveIden)]
#[allow(clippy::enum_variant_names)] // the column is media_type
enum Media {
    Table,
    Id,
    ChannelId,
    PostId,
    Position,
    FileName,
    MediaType,
    Size,
    Width,
    Height,
    Blurhash,
    Description,
    FocusX,
    FocusY,
    CreatedAt,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    ChannelId,
    Key,
    RequestHash,
    Status,
    Response,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Channel {
    #[sea_orm(iden = "channels")]
    Table,
    Id,
}

/// SQLite adds one column per ALTER TABLE, so each column is its own statement.
async fn add_column<T: IntoIden + 'static>(
    manager: &SchemaManager<'_>,
    table: T,
    column: ColumnDef,
) -> Result<(), DbErr> {
    let mut column = column;
    manager
        .alter_table(
            Table::alter()
                .table(table)
                .add_column(&mut column)
                .to_owned(),
        )
        .await
}

async fn drop_column<T: IntoIden + 'static, C: IntoIden + 'static>(
    manager: &SchemaManager<'_>,
    table: T,
    column: C,
) -> Result<(), DbErr> {
    manager
        .alter_table(Table::alter().table(table).drop_column(column).to_owned())
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Posts: "public" (Public in to) or "quiet" (Public in cc: kept out of public
        // timelines); a publication time in the future; a pin; the AS tags (hashtags,
        // mentions) and mentioned actors, kept to rebuild the Note; a policy override.
        add_column(
            manager,
            Posts::Table,
            ColumnDef::new(Posts::Visibility)
                .string_len(16)
                .not_null()
                .default("public")
                .to_owned(),
        )
        .await?;
        for column in [Posts::ScheduledAt, Posts::PinnedAt] {
            add_column(
                manager,
                Posts::Table,
                ColumnDef::new(column)
                    .timestamp_with_time_zone()
                    .null()
                    .to_owned(),
            )
            .await?;
        }
        for column in [Posts::Tags, Posts::Mentions, Posts::Policy] {
            add_column(
                manager,
                Posts::Table,
                ColumnDef::new(column).text().null().to_owned(),
            )
            .await?;
        }
        for column in [Channels::Fields, Channels::Policy] {
            add_column(
                manager,
                Channels::Table,
                ColumnDef::new(column).text().null().to_owned(),
            )
            .await?;
        }
        add_column(
            manager,
            Channels::Table,
            ColumnDef::new(Channels::DefaultLanguage)
                .string_len(35)
                .null()
                .to_owned(),
        )
        .await?;
        for column in [Channels::AvatarId, Channels::HeaderId] {
            add_column(
                manager,
                Channels::Table,
                ColumnDef::new(column).string_len(36).null().to_owned(),
            )
            .await?;
        }
        add_column(
            manager,
            Fanouts::Table,
            ColumnDef::new(Fanouts::ExtraInboxes)
                .text()
                .null()
                .to_owned(),
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Media::Table)
                    .col(
                        ColumnDef::new(Media::Id)
                            .string_len(36)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Media::ChannelId).big_integer().not_null())
                    .col(ColumnDef::new(Media::PostId).string_len(36).null())
                    .col(
                        ColumnDef::new(Media::Position)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(ColumnDef::new(Media::FileName).string_len(200).not_null())
                    .col(ColumnDef::new(Media::MediaType).string_len(64).not_null())
                    .col(ColumnDef::new(Media::Size).big_integer().not_null())
                    .col(ColumnDef::new(Media::Width).integer().not_null())
                    .col(ColumnDef::new(Media::Height).integer().not_null())
                    .col(ColumnDef::new(Media::Blurhash).string_len(100).null())
                    .col(ColumnDef::new(Media::Description).text().null())
                    .col(
                        ColumnDef::new(Media::FocusX)
                            .double()
                            .not_null()
                            .default(0.0),
                    )
                    .col(
                        ColumnDef::new(Media::FocusY)
                            .double()
                            .not_null()
                            .default(0.0),
                    )
                    .col(
                        ColumnDef::new(Media::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from_tbl(Media::Table)
                            .from_col(Media::ChannelId)
                            .to_tbl(Channel::Table)
                            .to_col(Channel::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // A post's attachments, in order.
        manager
            .create_index(
                Index::create()
                    .name("idx_media_post")
                    .table(Media::Table)
                    .col(Media::PostId)
                    .col(Media::Position)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(
                        ColumnDef::new(IdempotencyKeys::ChannelId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IdempotencyKeys::Key)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IdempotencyKeys::RequestHash)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(ColumnDef::new(IdempotencyKeys::Status).integer().not_null())
                    .col(ColumnDef::new(IdempotencyKeys::Response).text().not_null())
                    .col(
                        ColumnDef::new(IdempotencyKeys::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(IdempotencyKeys::ChannelId)
                            .col(IdempotencyKeys::Key),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from_tbl(IdempotencyKeys::Table)
                            .from_col(IdempotencyKeys::ChannelId)
                            .to_tbl(Channel::Table)
                            .to_col(Channel::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(IdempotencyKeys::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Media::Table).to_owned())
            .await?;
        drop_column(manager, Fanouts::Table, Fanouts::ExtraInboxes).await?;
        for column in [
            Channels::Fields,
            Channels::Policy,
            Channels::DefaultLanguage,
            Channels::AvatarId,
            Channels::HeaderId,
        ] {
            drop_column(manager, Channels::Table, column).await?;
        }
        for column in [
            Posts::Visibility,
            Posts::ScheduledAt,
            Posts::PinnedAt,
            Posts::Tags,
            Posts::Mentions,
            Posts::Policy,
        ] {
            drop_column(manager, Posts::Table, column).await?;
        }
        Ok(())
    }
}
