//! Channels that fill themselves and tell their owners. `sources`: feeds a channel mirrors,
//! with what their last fetch left (validators, failures, the next poll) and their WebSub
//! subscription; `source_entries`: the entries already posted or passed over, by entry id
//! and by link, each once per source (the unique indexes hold it across processes).
//! `webhooks`: where a channel's events are sent, with the secret that signs them; each
//! event sent is an activity of kind `Event` with one delivery, so the delivery engine
//! retries, limits and dead-letters it like any other (`deliveries.webhook_id`).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000003_add_sources_and_webhooks"
    }
}

#[derive(DeriveIden)]
enum Sources {
    Table,
    Id,
    ChannelId,
    Url,
    Template,
    IntervalSecs,
    InitialEntries,
    MaxPerPoll,
    Etag,
    LastModified,
    NextPollAt,
    LastPolledAt,
    Polls,
    Failures,
    LastStatus,
    LastError,
    Hub,
    Topic,
    WebsubSecret,
    WebsubState,
    WebsubUntil,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SourceEntries {
    Table,
    Id,
    SourceId,
    EntryKey,
    Link,
    PostId,
    EntryUpdated,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Webhooks {
    Table,
    Id,
    ChannelId,
    Url,
    Events,
    Secret,
    Description,
    DisabledAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Deliveries {
    Table,
    WebhookId,
}

fn timestamp<C: IntoIden>(column: C) -> ColumnDef {
    let mut def = ColumnDef::new(column);
    def.timestamp_with_time_zone().not_null();
    def
}

fn id<C: IntoIden>(column: C) -> ColumnDef {
    let mut def = ColumnDef::new(column);
    def.big_integer().not_null().auto_increment().primary_key();
    def
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Sources::Table)
                    .col(id(Sources::Id))
                    .col(ColumnDef::new(Sources::ChannelId).big_integer().not_null())
                    .col(ColumnDef::new(Sources::Url).text().not_null())
                    .col(ColumnDef::new(Sources::Template).text().not_null())
                    .col(ColumnDef::new(Sources::IntervalSecs).integer().not_null())
                    .col(ColumnDef::new(Sources::InitialEntries).integer().not_null())
                    .col(ColumnDef::new(Sources::MaxPerPoll).integer().not_null())
                    .col(ColumnDef::new(Sources::Etag).text())
                    .col(ColumnDef::new(Sources::LastModified).text())
                    .col(timestamp(Sources::NextPollAt))
                    .col(ColumnDef::new(Sources::LastPolledAt).timestamp_with_time_zone())
                    .col(
                        ColumnDef::new(Sources::Polls)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(
                        ColumnDef::new(Sources::Failures)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(ColumnDef::new(Sources::LastStatus).integer())
                    .col(ColumnDef::new(Sources::LastError).text())
                    .col(ColumnDef::new(Sources::Hub).text())
                    .col(ColumnDef::new(Sources::Topic).text())
                    .col(ColumnDef::new(Sources::WebsubSecret).string())
                    .col(ColumnDef::new(Sources::WebsubState).string_len(16))
                    .col(ColumnDef::new(Sources::WebsubUntil).timestamp_with_time_zone())
                    .col(timestamp(Sources::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sources_next_poll")
                    .table(Sources::Table)
                    .col(Sources::NextPollAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SourceEntries::Table)
                    .col(id(SourceEntries::Id))
                    .col(
                        ColumnDef::new(SourceEntries::SourceId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(SourceEntries::EntryKey).text().not_null())
                    .col(ColumnDef::new(SourceEntries::Link).text())
                    .col(ColumnDef::new(SourceEntries::PostId).string_len(36))
                    .col(ColumnDef::new(SourceEntries::EntryUpdated).timestamp_with_time_zone())
                    .col(timestamp(SourceEntries::CreatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_source_entries_key", SourceEntries::EntryKey),
            ("idx_source_entries_link", SourceEntries::Link),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(SourceEntries::Table)
                        .col(SourceEntries::SourceId)
                        .col(column)
                        .unique()
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Webhooks::Table)
                    .col(id(Webhooks::Id))
                    .col(ColumnDef::new(Webhooks::ChannelId).big_integer().not_null())
                    .col(ColumnDef::new(Webhooks::Url).text().not_null())
                    .col(ColumnDef::new(Webhooks::Events).text().not_null())
                    .col(ColumnDef::new(Webhooks::Secret).string().not_null())
                    .col(ColumnDef::new(Webhooks::Description).string())
                    .col(ColumnDef::new(Webhooks::DisabledAt).timestamp_with_time_zone())
                    .col(timestamp(Webhooks::CreatedAt))
                    .to_owned(),
            )
            .await?;
        // Every inbound like, boost or follow looks up its channel's webhooks.
        manager
            .create_index(
                Index::create()
                    .name("idx_webhooks_channel")
                    .table(Webhooks::Table)
                    .col(Webhooks::ChannelId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Deliveries::Table)
                    .add_column(ColumnDef::new(Deliveries::WebhookId).big_integer())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_deliveries_webhook")
                    .table(Deliveries::Table)
                    .col(Deliveries::WebhookId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Webhook messages are no ActivityPub: an older Herald must not send them.
        let db = manager.get_connection();
        db.execute_unprepared("DELETE FROM deliveries WHERE webhook_id IS NOT NULL")
            .await?;
        db.execute_unprepared("DELETE FROM activities WHERE kind = 'Event'")
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_deliveries_webhook")
                    .table(Deliveries::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Deliveries::Table)
                    .drop_column(Deliveries::WebhookId)
                    .to_owned(),
            )
            .await?;
        for table in [
            Webhooks::Table.into_iden(),
            SourceEntries::Table.into_iden(),
            Sources::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
