CREATE SCHEMA IF NOT EXISTS `main`.`shop floor`;

CREATE TABLE IF NOT EXISTS `main`.`shop floor`.`ord``ers` (`Region Code` STRING NOT NULL, `id``x` BIGINT NOT NULL, `select` STRING, `Straße 名前` DECIMAL(38,10), `MixedCase` TIMESTAMP_NTZ, `order` BINARY, `d` DATE, `ok` BOOLEAN, `n` INT, `x` DOUBLE, `_cdc_updated` STRING NOT NULL, `_cdc_updated_wall` BIGINT NOT NULL, `_cdc_updated_logical` INT NOT NULL, `_cdc_deleted_at` TIMESTAMP, `_airbyte_raw_id` STRING NOT NULL, `_airbyte_extracted_at` TIMESTAMP NOT NULL, `_airbyte_meta` STRING NOT NULL, `_airbyte_generation_id` BIGINT) USING DELTA TBLPROPERTIES ('delta.enableDeletionVectors' = 'true', 'cdc.managed_by' = 'destination-databricks-delta');

CREATE TABLE IF NOT EXISTS `main`.`shop floor`.`ord``ers__cdc_tombstones` (`Region Code` STRING NOT NULL, `id``x` BIGINT NOT NULL, `_cdc_updated` STRING NOT NULL, `_cdc_updated_wall` BIGINT NOT NULL, `_cdc_updated_logical` INT NOT NULL, `_cdc_deleted_at` TIMESTAMP NOT NULL, `_airbyte_generation_id` BIGINT) USING DELTA TBLPROPERTIES ('delta.enableDeletionVectors' = 'true', 'cdc.managed_by' = 'destination-databricks-delta');

ALTER TABLE `main`.`shop floor`.`ord``ers` ADD COLUMNS (`new col``` DECIMAL(12,2), `Ünï` STRING COMMENT '{"cdc.placeholder":"true","cdc.original_name":"Ünï \'x\'"}');

SELECT * FROM `main`.`shop floor`.`ord``ers` LIMIT 0;

DESCRIBE TABLE `main`.`shop floor`.`ord``ers`;

DROP TABLE IF EXISTS `main`.`shop floor`.`ord``ers__tmp_g7`;
