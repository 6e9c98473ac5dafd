//! Reference geography rows.

use entity::{
    legacy_districts, legacy_provinces, legacy_wards, provinces, ward_conversions, wards,
};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QueryOrder};

pub async fn find_province<C: ConnectionTrait>(
    db: &C,
    code: &str,
) -> Result<Option<provinces::Model>, DbErr> {
    provinces::Entity::find_by_id(code.to_string())
        .one(db)
        .await
}

/// Every row of the six reference tables.
pub struct AllRows {
    pub provinces: Vec<provinces::Model>,
    pub wards: Vec<wards::Model>,
    pub legacy_provinces: Vec<legacy_provinces::Model>,
    pub legacy_districts: Vec<legacy_districts::Model>,
    pub legacy_wards: Vec<legacy_wards::Model>,
    pub conversions: Vec<ward_conversions::Model>,
}

pub async fn all<C: ConnectionTrait>(db: &C) -> Result<AllRows, DbErr> {
    Ok(AllRows {
        provinces: provinces::Entity::find()
            .order_by_asc(provinces::Column::Code)
            .all(db)
            .await?,
        wards: wards::Entity::find()
            .order_by_asc(wards::Column::Code)
            .all(db)
            .await?,
        legacy_provinces: legacy_provinces::Entity::find()
            .order_by_asc(legacy_provinces::Column::Code)
            .all(db)
            .await?,
        legacy_districts: legacy_districts::Entity::find()
            .order_by_asc(legacy_districts::Column::Code)
            .all(db)
            .await?,
        legacy_wards: legacy_wards::Entity::find()
            .order_by_asc(legacy_wards::Column::Code)
            .all(db)
            .await?,
        conversions: ward_conversions::Entity::find()
            .order_by_asc(ward_conversions::Column::OldWardCode)
            .order_by_asc(ward_conversions::Column::NewWardCode)
            .all(db)
            .await?,
    })
}

/// Row counts of the reference tables (and of units and procedure versions).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub provinces: u64,
    pub wards: u64,
    pub legacy_provinces: u64,
    pub legacy_districts: u64,
    pub legacy_wards: u64,
    pub conversions: u64,
    pub units: u64,
    pub procedures: u64,
}

pub async fn counts<C: ConnectionTrait>(db: &C) -> Result<Counts, DbErr> {
    use sea_orm::PaginatorTrait;
    Ok(Counts {
        provinces: provinces::Entity::find().count(db).await?,
        wards: wards::Entity::find().count(db).await?,
        legacy_provinces: legacy_provinces::Entity::find().count(db).await?,
        legacy_districts: legacy_districts::Entity::find().count(db).await?,
        legacy_wards: legacy_wards::Entity::find().count(db).await?,
        conversions: ward_conversions::Entity::find().count(db).await?,
        units: entity::units::Entity::find().count(db).await?,
        procedures: entity::procedures::Entity::find().count(db).await?,
    })
}
