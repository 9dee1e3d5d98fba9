//! Instance-wide values kept in the database (the instance actor's keys).

use super::{entities::setting, DbResult};
use sea_orm::{sea_query::OnConflict, ConnectionTrait, EntityTrait, Set};

/// Reads a setting.
pub async fn get_setting(db: &impl ConnectionTrait, key: &str) -> DbResult<Option<String>> {
    Ok(setting::Entity::find_by_id(key.to_string())
        .one(db)
        .await?
        .map(|m| m.value))
}

/// Stores `value` under `key` unless the key already has one, and returns the value that
/// is stored afterwards. Two processes racing at first start agree on one value.
pub async fn setting_or_insert(
    db: &impl ConnectionTrait,
    key: &str,
    value: String,
) -> DbResult<String> {
    setting::Entity::insert(setting::ActiveModel {
        key: Set(key.to_string()),
        value: Set(value),
    })
    .on_conflict(
        OnConflict::column(setting::Column::Key)
            .do_nothing()
            .to_owned(),
    )
    .do_nothing()
    .exec(db)
    .await?;
    get_setting(db, key).await?.ok_or(super::DbError::NotFound)
}
