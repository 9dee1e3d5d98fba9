//! Channels that move: the accounts a channel also is (`alsoKnownAs`, so a Move into
//! Herald is accepted) and the account it moved to (`movedTo`), each an actor id.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000004_add_moves"
    }
}

#[derive(DeriveIden)]
enum Channels {
    Table,
    AlsoKnownAs,
    MovedTo,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Channels::AlsoKnownAs, Channels::MovedTo] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Channels::Table)
                        .add_column(ColumnDef::new(column).text())
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Channels::MovedTo, Channels::AlsoKnownAs] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Channels::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
