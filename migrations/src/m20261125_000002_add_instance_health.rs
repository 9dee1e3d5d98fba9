//! Instance health: the `instances` table (one row per remote server Herald delivers to,
//! tracking failures so a dead server is parked instead of retried in a loop), and the
//! time each retrying delivery is next due, so lost retries can be found and re-queued.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000002_add_instance_health"
    }
}

#[derive(DeriveIden)]
enum Instances {
    Table,
    Authority,
    State,
    ConsecutiveFailures,
    FailingSince,
    LastFailureAt,
    LastError,
    NextProbeAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Deliveries {
    Table,
    Authority,
    State,
    NextAttemptAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Instances::Table)
                    .col(
                        ColumnDef::new(Instances::Authority)
                            .string_len(300)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Instances::State).string_len(16).not_null())
                    .col(
                        ColumnDef::new(Instances::ConsecutiveFailures)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Instances::FailingSince)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Instances::LastFailureAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(Instances::LastError).text().null())
                    .col(
                        ColumnDef::new(Instances::NextProbeAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Instances::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        // The prober looks for unreachable servers whose probe is due.
        manager
            .create_index(
                Index::create()
                    .name("idx_instances_state_probe")
                    .table(Instances::Table)
                    .col(Instances::State)
                    .col(Instances::NextProbeAt)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Deliveries::Table)
                    .add_column(
                        ColumnDef::new(Deliveries::NextAttemptAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        // Parking and reviving a server touch its deliveries by state.
        manager
            .create_index(
                Index::create()
                    .name("idx_deliveries_authority_state")
                    .table(Deliveries::Table)
                    .col(Deliveries::Authority)
                    .col(Deliveries::State)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_deliveries_authority_state")
                    .table(Deliveries::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Deliveries::Table)
                    .drop_column(Deliveries::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Instances::Table).to_owned())
            .await
    }
}
