//! The reference server's tables API, checked against the schemas and the documented rules.

use reqwest::Method;
use serde_json::{Value, json};

use crate::util::{Api, Reply, assert_error, assert_schema};

fn people_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "name": { "type": "string", "x-zui": { "index": 0, "searchable": true } },
            "city": { "type": "string" },
            "age": { "type": "number" },
            "bio": { "type": "string", "x-zui": { "index": 3, "searchable": true } }
        },
        "required": ["name"]
    })
}

async fn create_table(api: &Api, name: &str, schema: Value) -> String {
    let r = api.post("/v1/tables", json!({ "name": name, "schema": schema })).await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert_schema("responses/createTable.json", &r.body);
    r.body["table"]["id"].as_str().unwrap().to_string()
}

async fn people(api: &Api, name: &str) -> String {
    let id = create_table(api, name, people_schema()).await;
    let r = api
        .post(
            &format!("/v1/tables/{name}/rows"),
            json!({ "rows": [
                { "name": "Ada", "city": "London", "age": 36, "bio": "first programmer of the analytical engine" },
                { "name": "Grace", "city": "New York", "age": 45, "bio": "compiler pioneer and navy admiral" },
                { "name": "Alan", "city": "London", "age": 41, "bio": "computing machinery and intelligence" },
                { "name": "Edsger", "city": "Austin", "age": 72, "bio": "structured programming" },
                { "name": "Barbara", "age": 50, "bio": "abstract data types and the programmer" }
            ] }),
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    id
}

async fn find(api: &Api, table: &str, body: Value) -> Reply {
    let r = api.post(&format!("/v1/tables/{table}/rows/find"), body).await;
    if r.status == 200 {
        assert_schema("responses/findTableRows.json", &r.body);
    }
    r
}

fn ids(r: &Reply) -> Vec<u64> {
    r.body["rows"]
        .as_array()
        .unwrap_or_else(|| panic!("{:#}", r.body))
        .iter()
        .map(|row| row["id"].as_u64().unwrap())
        .collect()
}

async fn found(api: &Api, table: &str, filter: Value) -> Vec<u64> {
    let r = find(api, table, json!({ "filter": filter })).await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    ids(&r)
}

#[tokio::test]
async fn every_table_operation_on_its_success_path() {
    let api = Api::start().await;
    let r = api
        .post(
            "/v1/tables",
            json!({ "name": "booksTable", "schema": { "title": { "type": "string" } }, "tags": { "team": "a" }, "factor": 2 }),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_schema("responses/createTable.json", &r.body);
    let table = &r.body["table"];
    let id = table["id"].as_str().unwrap().to_string();
    assert_eq!(table["factor"], 2);
    assert_eq!(
        table["schema"]["properties"]["title"],
        json!({ "type": "string", "x-zui": { "index": 0 } })
    );
    assert_eq!(
        (table["frozen"].clone(), table["isComputeEnabled"].clone()),
        (json!(false), json!(false))
    );

    for key in [id.as_str(), "booksTable"] {
        let r = api.get(&format!("/v1/tables/{key}")).await;
        assert_eq!(r.status, 200);
        assert_schema("responses/getTable.json", &r.body);
        assert_eq!(
            (
                r.body["rows"].clone(),
                r.body["stale"].clone(),
                r.body["indexing"].clone()
            ),
            (json!(0), json!(0), json!(0))
        );
    }

    let body = json!({ "schema": { "title": { "type": "string" } } });
    let r = api.post("/v1/tables/booksTable", body.clone()).await;
    assert_eq!(r.status, 200);
    assert_schema("responses/getOrCreateTable.json", &r.body);
    assert_eq!(
        (r.body["created"].clone(), r.body["table"]["id"].clone()),
        (json!(false), json!(id))
    );
    let r = api.post("/v1/tables/authorsTable", body).await;
    assert_eq!(r.body["created"], true);
    assert_eq!(r.body["table"]["name"], "authorsTable");

    let r = api.get("/v1/tables").await;
    assert_schema("responses/listTables.json", &r.body);
    assert_eq!(r.body["tables"].as_array().unwrap().len(), 2);
    assert_eq!(r.body["tables"][0]["name"], "authorsTable", "newest first");
    let r = api.get("/v1/tables?tags.team=a").await;
    assert_eq!(r.body["tables"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["tables"][0]["id"], id.as_str());

    let r = api
        .post(
            "/v1/tables/booksTable/rows",
            json!({ "rows": [{ "title": "Dune" }, { "title": "Emma" }] }),
        )
        .await;
    assert_schema("responses/createTableRows.json", &r.body);
    assert_eq!(ids(&r), [1, 2]);
    assert_eq!(r.body["errors"], json!([]));
    assert_eq!(r.body["rows"][0]["computed"], json!({}));

    let r = api
        .put(
            "/v1/tables/booksTable",
            json!({ "name": "novelsTable", "tags": { "team": "", "kind": "fiction" }, "factor": 3, "isComputeEnabled": true }),
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert_schema("responses/updateTable.json", &r.body);
    assert_eq!(r.body["table"]["name"], "novelsTable");
    assert_eq!(r.body["table"]["tags"], json!({ "kind": "fiction" }));
    assert_eq!(r.body["staleColumns"], json!([]));
    assert!(r.body["table"]["updatedAt"].as_str() > r.body["table"]["createdAt"].as_str());

    let r = api
        .put(
            &format!("/v1/tables/{id}/column"),
            json!({ "name": "title", "newName": "heading" }),
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert_schema("responses/renameTableColumn.json", &r.body);
    assert!(r.body["table"]["schema"]["properties"]["heading"].is_object());
    let r = api.get(&format!("/v1/tables/{id}/row?id=2")).await;
    assert_schema("responses/getTableRow.json", &r.body);
    assert_eq!(r.body["row"]["heading"], "Emma", "the data follows the new name");
    assert!(r.body["row"].get("title").is_none());

    let r = api
        .post(
            &format!("/v1/tables/{id}/duplicate"),
            json!({ "tableName": "copyTable" }),
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert_schema("responses/duplicateTable.json", &r.body);
    assert_eq!(
        (r.body["rows"].clone(), r.body["table"]["factor"].clone()),
        (json!(2), json!(3))
    );
    let r = api
        .post(
            &format!("/v1/tables/{id}/duplicate"),
            json!({ "schemaOnly": true, "factor": 1 }),
        )
        .await;
    assert_eq!(r.body["rows"], 0);
    assert_eq!(r.body["table"]["name"], "novelsTableCopy");
    assert_eq!(r.body["table"]["factor"], 1);

    let r = api.delete("/v1/tables/novelsTable").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({}));
    assert_schema("responses/deleteTable.json", &r.body);
    assert_error(&api.get(&format!("/v1/tables/{id}")).await, 404, "ResourceNotFound");
    assert_error(
        &api.get(&format!("/v1/tables/{id}/row?id=1")).await,
        404,
        "ResourceNotFound",
    );
    let r = api.get("/v1/tables/copyTable/row?id=1").await;
    assert_eq!(r.body["row"]["heading"], "Dune", "the copy keeps its own rows");
}

#[tokio::test]
async fn row_writes_update_upsert_and_delete() {
    let api = Api::start().await;
    create_table(
        &api,
        "stockTable",
        json!({ "sku": { "type": "string" }, "qty": { "type": "number" } }),
    )
    .await;
    let r = api
        .post(
            "/v1/tables/stockTable/rows",
            json!({ "rows": [{ "sku": "a", "qty": 1 }, { "sku": "b", "qty": 2 }, { "sku": "c", "qty": 3 }] }),
        )
        .await;
    assert_eq!(ids(&r), [1, 2, 3]);
    let created_at = r.body["rows"][0]["createdAt"].clone();

    let r = api
        .put(
            "/v1/tables/stockTable/rows",
            json!({ "rows": [{ "id": 1, "qty": 10 }] }),
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert_schema("responses/updateTableRows.json", &r.body);
    assert_eq!(r.body["rows"][0]["qty"], 10);
    assert_eq!(r.body["rows"][0]["sku"], "a", "columns not sent are kept");
    assert_eq!(r.body["rows"][0]["createdAt"], created_at);
    assert!(r.body["rows"][0]["updatedAt"].as_str() > created_at.as_str());

    let r = api
        .post(
            "/v1/tables/stockTable/rows/upsert",
            json!({ "keyColumn": "sku", "rows": [{ "sku": "b", "qty": 20 }, { "sku": "d", "qty": 4 }] }),
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert_schema("responses/upsertTableRows.json", &r.body);
    assert_eq!(r.body["updated"][0]["id"], 2);
    assert_eq!(r.body["updated"][0]["qty"], 20);
    assert_eq!(r.body["inserted"][0]["id"], 4);
    let r = api
        .post(
            "/v1/tables/stockTable/rows/upsert",
            json!({ "rows": [{ "id": 3, "qty": 30 }] }),
        )
        .await;
    assert_eq!(
        (r.body["updated"][0]["id"].clone(), r.body["inserted"].clone()),
        (json!(3), json!([]))
    );

    let r = api
        .post("/v1/tables/stockTable/rows/delete", json!({ "ids": [1, 99] }))
        .await;
    assert_schema("responses/deleteTableRows.json", &r.body);
    assert_eq!(r.body["deletedRows"], 1);
    let r = api
        .post(
            "/v1/tables/stockTable/rows/delete",
            json!({ "filter": { "qty": { "$gte": 20 } } }),
        )
        .await;
    assert_eq!(r.body["deletedRows"], 2);
    assert_error(
        &api.get("/v1/tables/stockTable/row?id=2").await,
        404,
        "ResourceNotFound",
    );
    let r = api
        .post("/v1/tables/stockTable/rows/delete", json!({ "deleteAllRows": true }))
        .await;
    assert_eq!(r.body["deletedRows"], 1);
    assert_eq!(api.get("/v1/tables/stockTable").await.body["rows"], 0);
    let r = api
        .post("/v1/tables/stockTable/rows", json!({ "rows": [{ "sku": "e" }] }))
        .await;
    assert_eq!(ids(&r), [5], "ids are never reused");
    assert_error(
        &api.post("/v1/tables/stockTable/rows/delete", json!({})).await,
        400,
        "InvalidPayload",
    );
    assert_error(
        &api.post(
            "/v1/tables/stockTable/rows/delete",
            json!({ "ids": [5], "deleteAllRows": true }),
        )
        .await,
        400,
        "InvalidPayload",
    );
}

#[tokio::test]
async fn partial_success_writes_the_good_rows() {
    let api = Api::start().await;
    create_table(&api, "peopleTable", people_schema()).await;
    let r = api
        .post(
            "/v1/tables/peopleTable/rows",
            json!({ "rows": [
                { "name": "Ada", "age": 36 },
                { "name": "Bob", "age": "old" },
                { "name": "Cy", "shoe": 44, "id": 9 },
                { "age": 3 }
            ] }),
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert_schema("responses/createTableRows.json", &r.body);
    assert_eq!(ids(&r), [1, 2]);
    let errors = r.body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2);
    assert!(
        errors[0].as_str().unwrap().starts_with("rows[1]: column \"age\""),
        "{errors:?}"
    );
    assert!(errors[1].as_str().unwrap().contains("rows[3]") && errors[1].as_str().unwrap().contains("required"));
    let warnings = r.body["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 2, "the dropped shoe and id are said: {warnings:?}");
    assert_eq!(api.get("/v1/tables/peopleTable").await.body["rows"], 2);

    let r = api
        .post("/v1/tables/peopleTable/rows", json!({ "rows": [{ "name": 1 }] }))
        .await;
    assert_error(&r, 400, "InvalidDataFormat");
    assert!(r.body["message"].as_str().unwrap().contains("rows[0]: column \"name\""));
    let r = api
        .put(
            "/v1/tables/peopleTable/rows",
            json!({ "rows": [{ "id": 1, "age": 37 }, { "id": 2, "age": "x" }] }),
        )
        .await;
    assert_eq!(r.body["rows"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["errors"].as_array().unwrap().len(), 1);
    assert_error(
        &api.put(
            "/v1/tables/peopleTable/rows",
            json!({ "rows": [{ "id": 77, "age": 1 }] }),
        )
        .await,
        404,
        "ResourceNotFound",
    );
    let big = "x".repeat(5000);
    let r = api
        .post(
            "/v1/tables/peopleTable/rows",
            json!({ "rows": [{ "name": "Big", "bio": big }] }),
        )
        .await;
    assert_error(&r, 413, "LimitExceeded");
    let r = api.put("/v1/tables/peopleTable", json!({ "factor": 2 })).await;
    assert_eq!(r.status, 200);
    let r = api
        .post(
            "/v1/tables/peopleTable/rows",
            json!({ "rows": [{ "name": "Big", "bio": big }] }),
        )
        .await;
    assert_eq!(r.status, 200, "factor 2 holds 8 KB rows: {:#}", r.body);
}

#[tokio::test]
async fn filter_operators_each_on_known_rows() {
    let api = Api::start().await;
    people(&api, "peopleTable").await;
    let t = "peopleTable";
    assert_eq!(found(&api, t, json!({ "city": "London" })).await, [1, 3]);
    assert_eq!(found(&api, t, json!({ "age": { "$eq": 45 } })).await, [2]);
    assert_eq!(found(&api, t, json!({ "city": { "$ne": "London" } })).await, [2, 4, 5]);
    assert_eq!(found(&api, t, json!({ "age": { "$gt": 45 } })).await, [4, 5]);
    assert_eq!(found(&api, t, json!({ "age": { "$gte": 45 } })).await, [2, 4, 5]);
    assert_eq!(found(&api, t, json!({ "age": { "$lt": 41 } })).await, [1]);
    assert_eq!(found(&api, t, json!({ "age": { "$lte": 41 } })).await, [1, 3]);
    assert_eq!(
        found(&api, t, json!({ "name": { "$in": ["Ada", "Edsger"] } })).await,
        [1, 4]
    );
    assert_eq!(
        found(&api, t, json!({ "name": { "$nin": ["Ada", "Edsger"] } })).await,
        [2, 3, 5]
    );
    assert_eq!(found(&api, t, json!({ "city": { "$exists": false } })).await, [5]);
    assert_eq!(
        found(&api, t, json!({ "name": { "$regex": "^a", "$options": "i" } })).await,
        [1, 3]
    );
    assert_eq!(
        found(
            &api,
            t,
            json!({ "$and": [{ "city": "London" }, { "age": { "$gt": 40 } }] })
        )
        .await,
        [3]
    );
    assert_eq!(
        found(&api, t, json!({ "$or": [{ "age": 36 }, { "city": "Austin" }] })).await,
        [1, 4]
    );
    assert_eq!(
        found(&api, t, json!({ "age": { "$not": { "$gte": 45 } } })).await,
        [1, 3]
    );
    assert_eq!(found(&api, t, json!({ "id": { "$in": [2, 5] } })).await, [2, 5]);
    let r = api.get("/v1/tables/peopleTable/row?id=5").await;
    let created = r.body["row"]["createdAt"].clone();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    api.post("/v1/tables/peopleTable/rows", json!({ "rows": [{ "name": "Late" }] }))
        .await;
    assert_eq!(found(&api, t, json!({ "createdAt": { "$gt": created } })).await, [6]);
    assert_eq!(
        found(&api, t, json!({ "updatedAt": { "$lte": created } })).await,
        [1, 2, 3, 4, 5]
    );
    api.post("/v1/tables/peopleTable/rows/delete", json!({ "ids": [6] }))
        .await;
    assert_eq!(
        found(&api, t, json!({ "updatedAt": { "$exists": true } })).await.len(),
        5
    );

    for (filter, mention) in [
        (json!({ "age": { "$foo": 1 } }), "filter.age.$foo"),
        (json!({ "nope": 1 }), "unknown column \"nope\""),
        (json!({ "$or": {} }), "filter.$or"),
        (json!({ "name": { "$regex": "(" } }), "invalid regular expression"),
    ] {
        let r = find(&api, t, json!({ "filter": filter })).await;
        assert_error(&r, 400, "InvalidQuery");
        assert!(r.body["message"].as_str().unwrap().contains(mention), "{:#}", r.body);
    }
    let r = api
        .post(
            "/v1/tables/peopleTable/rows/delete",
            json!({ "filter": { "age": { "$bad": 1 } } }),
        )
        .await;
    assert_error(&r, 400, "InvalidQuery");
}

#[tokio::test]
async fn group_order_select_paging_and_search() {
    let api = Api::start().await;
    people(&api, "peopleTable").await;
    let t = "peopleTable";
    let r = find(
        &api,
        t,
        json!({ "group": { "city": "key", "age": ["avg", "max", "min", "sum"], "id": "count" } }),
    )
    .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert_eq!(
        r.body["rows"],
        json!([
            { "id": 1, "computed": {}, "cityKey": "Austin", "ageAvg": 72, "ageMax": 72, "ageMin": 72, "ageSum": 72, "idCount": 1 },
            { "id": 2, "computed": {}, "cityKey": "London", "ageAvg": 38.5, "ageMax": 41, "ageMin": 36, "ageSum": 77, "idCount": 2 },
            { "id": 3, "computed": {}, "cityKey": "New York", "ageAvg": 45, "ageMax": 45, "ageMin": 45, "ageSum": 45, "idCount": 1 },
            { "id": 4, "computed": {}, "cityKey": null, "ageAvg": 50, "ageMax": 50, "ageMin": 50, "ageSum": 50, "idCount": 1 }
        ])
    );
    let r = find(
        &api,
        t,
        json!({ "group": { "age": "sum", "name": "count" }, "filter": { "city": "London" } }),
    )
    .await;
    assert_eq!(
        r.body["rows"],
        json!([{ "id": 1, "computed": {}, "ageSum": 77, "nameCount": 2 }])
    );
    assert_error(
        &find(&api, t, json!({ "group": { "city": "avg" } })).await,
        400,
        "InvalidQuery",
    );

    let r = find(&api, t, json!({ "orderBy": "age", "orderDirection": "desc" })).await;
    assert_eq!(ids(&r), [4, 5, 2, 3, 1]);
    let r = find(&api, t, json!({ "orderBy": "city" })).await;
    assert_eq!(ids(&r), [4, 1, 3, 2, 5], "missing values sort last");
    assert_error(&find(&api, t, json!({ "orderBy": "shoe" })).await, 400, "InvalidQuery");

    let r = find(&api, t, json!({ "select": ["name"], "limit": 2, "offset": 1 })).await;
    assert_eq!(ids(&r), [2, 3]);
    assert_eq!(
        (
            r.body["offset"].clone(),
            r.body["limit"].clone(),
            r.body["hasMore"].clone()
        ),
        (json!(1), json!(2), json!(true))
    );
    assert_eq!(
        r.body["rows"][0].as_object().unwrap().keys().collect::<Vec<_>>(),
        ["id", "createdAt", "updatedAt", "computed", "name"]
    );
    let r = find(&api, t, json!({ "limit": 2, "offset": 4 })).await;
    assert_eq!((ids(&r), r.body["hasMore"].clone()), (vec![5], json!(false)));
    let r = find(&api, t, json!({})).await;
    assert_eq!(
        (r.body["limit"].clone(), r.body["offset"].clone()),
        (json!(100), json!(0))
    );
    assert_error(&find(&api, t, json!({ "limit": 0 })).await, 400, "InvalidPayload");
    assert_error(&find(&api, t, json!({ "limit": 1001 })).await, 400, "InvalidPayload");

    // name and bio are the searchable columns; "programmer" is in rows 1 and 5, "analytical" only in 1.
    let r = find(&api, t, json!({ "search": "analytical programmer" })).await;
    assert_eq!(ids(&r), [1, 5]);
    assert_eq!(r.body["rows"][0]["similarity"], 1.0);
    let second = r.body["rows"][1]["similarity"].as_f64().unwrap();
    assert!(second > 0.0 && second < 0.5, "the rarer word weighs more: {second}");
    let r = find(&api, t, json!({ "search": "London" })).await;
    assert_eq!(ids(&r), Vec::<u64>::new(), "city is not searchable");
    let r = find(&api, t, json!({ "search": "programmer", "orderBy": "age" })).await;
    assert_eq!(ids(&r), [1, 5]);
    assert_eq!(r.body["warnings"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn table_errors_have_their_documented_types() {
    let api = Api::start().await;
    let s = json!({ "a": { "type": "string" } });
    for name in ["Bad", "x", "with_underscore", "9lives"] {
        let r = api.post("/v1/tables", json!({ "name": name, "schema": s })).await;
        assert_error(&r, 400, "InvalidIdentifier");
    }
    assert_error(
        &api.post(
            "/v1/tables",
            json!({ "name": "okTable", "schema": { "Col": { "type": "string" } } }),
        )
        .await,
        400,
        "InvalidIdentifier",
    );
    for schema in [
        json!({ "a": { "type": "text" } }),
        json!({ "a": "string" }),
        json!({ "type": "array" }),
        json!({ "type": "object", "properties": { "a": { "type": "string" } }, "required": ["b"] }),
    ] {
        let r = api
            .post("/v1/tables", json!({ "name": "okTable", "schema": schema }))
            .await;
        assert_error(&r, 400, "InvalidJsonSchema");
    }
    let many: serde_json::Map<String, Value> = (0..21)
        .map(|i| (format!("c{i}"), json!({ "type": "number" })))
        .collect();
    let r = api
        .post("/v1/tables", json!({ "name": "wideTable", "schema": many }))
        .await;
    assert_error(&r, 413, "LimitExceeded");
    assert_error(
        &api.post("/v1/tables", json!({ "schema": s })).await,
        400,
        "InvalidPayload",
    );

    create_table(&api, "okTable", s.clone()).await;
    let r = api.post("/v1/tables", json!({ "name": "okTable", "schema": s })).await;
    assert_error(&r, 409, "AlreadyExists");
    create_table(&api, "twoTable", s.clone()).await;
    assert_error(
        &api.put("/v1/tables/twoTable", json!({ "name": "okTable" })).await,
        409,
        "AlreadyExists",
    );
    assert_error(
        &api.post("/v1/tables/okTable/duplicate", json!({ "tableName": "twoTable" }))
            .await,
        404,
        "ResourceNotFound",
    );

    let ok_id = api.get("/v1/tables/okTable").await.body["table"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_error(
        &api.post(
            &format!("/v1/tables/{ok_id}/duplicate"),
            json!({ "tableName": "twoTable" }),
        )
        .await,
        409,
        "AlreadyExists",
    );
    assert_error(&api.post("/v1/tables/okTable", json!({})).await, 400, "InvalidPayload");
    assert_error(
        &api.post("/v1/tables/bad_name", json!({ "schema": s })).await,
        400,
        "InvalidIdentifier",
    );

    // Frozen: name, schema and column renames refused; rows, tags and unfreezing allowed.
    let r = api.put("/v1/tables/okTable", json!({ "frozen": true })).await;
    assert_eq!(r.body["table"]["frozen"], true);
    let locked = [
        api.put("/v1/tables/okTable", json!({ "name": "otherTable" })).await,
        api.put("/v1/tables/okTable", json!({ "schema": { "b": { "type": "string" } } }))
            .await,
        api.put("/v1/tables/okTable/column", json!({ "name": "a", "newName": "b" }))
            .await,
    ];
    for r in &locked {
        assert_error(r, 409, "ResourceLockedConflict");
        assert!(r.body["message"].as_str().unwrap().contains("frozen"));
    }
    assert_eq!(
        api.put("/v1/tables/okTable", json!({ "tags": { "k": "v" } }))
            .await
            .status,
        200
    );
    assert_eq!(
        api.post("/v1/tables/okTable/rows", json!({ "rows": [{ "a": "x" }] }))
            .await
            .status,
        200
    );
    let copy = api.post(&format!("/v1/tables/{ok_id}/duplicate"), json!({})).await;
    assert_eq!(
        copy.body["table"]["frozen"], false,
        "a copy is how a frozen table changes"
    );
    assert_eq!(
        api.put("/v1/tables/okTable", json!({ "frozen": false })).await.status,
        200
    );
    assert_eq!(
        api.put("/v1/tables/okTable/column", json!({ "name": "a", "newName": "b" }))
            .await
            .status,
        200
    );

    assert_eq!(api.put("/v1/tables/okTable", json!({ "factor": 3 })).await.status, 200);
    let r = api.put("/v1/tables/okTable", json!({ "factor": 2 })).await;
    assert_error(&r, 400, "InvalidPayload");
    assert!(r.body["message"].as_str().unwrap().contains("only grow"));

    // Column renames.
    let rename = |name: &str, new_name: &str| json!({ "name": name, "newName": new_name });
    assert_error(
        &api.put("/v1/tables/okTable/column", rename("zz", "c")).await,
        400,
        "ReferenceNotFound",
    );
    assert_error(
        &api.put("/v1/tables/okTable/column", rename("b", "C")).await,
        400,
        "InvalidIdentifier",
    );
    assert_error(
        &api.put("/v1/tables/okTable/column", rename("b", "")).await,
        400,
        "InvalidPayload",
    );

    // Rows and tables that do not exist; the row id goes in the query.
    assert_error(&api.get("/v1/tables/noTable").await, 404, "ResourceNotFound");
    assert_error(&api.delete("/v1/tables/noTable").await, 404, "ResourceNotFound");
    assert_error(&find(&api, "noTable", json!({})).await, 404, "ResourceNotFound");
    assert_error(&api.get("/v1/tables/okTable/row?id=42").await, 404, "ResourceNotFound");
    assert_error(&api.get("/v1/tables/okTable/row").await, 400, "InvalidQuery");
    assert_error(&api.get("/v1/tables/okTable/row?id=one").await, 400, "InvalidQuery");

    // A schema change must fit the rows already there; a dropped column takes its values.
    let r = api
        .put("/v1/tables/okTable", json!({ "schema": { "b": { "type": "number" } } }))
        .await;
    assert_error(&r, 400, "InvalidDataFormat");
    let r = api
        .put("/v1/tables/okTable", json!({ "schema": { "n": { "type": "number" } } }))
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert!(
        api.get("/v1/tables/okTable/row?id=1").await.body["row"]
            .get("b")
            .is_none()
    );
}

#[tokio::test]
async fn key_columns_are_unique() {
    let api = Api::start().await;
    let r = api
        .post(
            "/v1/tables",
            json!({ "name": "usersTable", "keyColumn": "email", "schema": { "email": { "type": "string" } } }),
        )
        .await;
    assert_eq!(r.body["table"]["keyColumn"], "email");
    api.post("/v1/tables/usersTable/rows", json!({ "rows": [{ "email": "a@x" }] }))
        .await;
    let r = api
        .post(
            "/v1/tables/usersTable/rows",
            json!({ "rows": [{ "email": "a@x" }, { "email": "b@x" }] }),
        )
        .await;
    assert_eq!(ids(&r), [2]);
    assert!(r.body["errors"][0].as_str().unwrap().contains("already holds"));
    assert_error(
        &api.post("/v1/tables/usersTable/rows", json!({ "rows": [{ "email": "b@x" }] }))
            .await,
        409,
        "AlreadyExists",
    );
    let r = api
        .post(
            "/v1/tables/usersTable/rows/upsert",
            json!({ "rows": [{ "email": "b@x" }] }),
        )
        .await;
    assert_eq!(
        r.body["updated"][0]["id"], 2,
        "the table's keyColumn is the default key"
    );
    let r = api.put("/v1/tables/usersTable", json!({ "keyColumn": null })).await;
    assert!(r.body["table"].get("keyColumn").is_none());
    assert_error(
        &api.post(
            "/v1/tables",
            json!({ "name": "xTable", "keyColumn": "nope", "schema": { "a": { "type": "string" } } }),
        )
        .await,
        400,
        "ReferenceNotFound",
    );
    assert_error(
        &api.post(
            "/v1/tables/usersTable/rows/upsert",
            json!({ "keyColumn": "nope", "rows": [{ "email": "c" }] }),
        )
        .await,
        400,
        "ReferenceNotFound",
    );
}

#[tokio::test]
async fn a_table_of_another_bot_is_invisible() {
    let api = Api::start().await;
    let id = people(&api, "peopleTable").await;
    let other = api.server.seeds().other_bot_id.clone();
    let token = api.token.clone();
    for path in [
        format!("/v1/tables/{id}"),
        "/v1/tables/peopleTable".to_string(),
        format!("/v1/tables/{id}/row?id=1"),
    ] {
        let r = api.call_as(&token, &other, Method::GET, &path, None).await;
        assert_error(&r, 404, "ResourceNotFound");
    }
    let r = api.call_as(&token, &other, Method::GET, "/v1/tables", None).await;
    assert_eq!(r.body["tables"], json!([]));
    let r = api
        .call_as(
            &token,
            &other,
            Method::POST,
            "/v1/tables/peopleTable/rows/find",
            Some(json!({})),
        )
        .await;
    assert_error(&r, 404, "ResourceNotFound");
    let r = api
        .call_as(
            &token,
            &other,
            Method::DELETE,
            &format!("/v1/tables/{id}"),
            Some(json!({})),
        )
        .await;
    assert_error(&r, 404, "ResourceNotFound");
    // The other bot may use the same name for its own table.
    let r = api
        .call_as(
            &token,
            &other,
            Method::POST,
            "/v1/tables",
            Some(json!({ "name": "peopleTable", "schema": { "a": { "type": "string" } } })),
        )
        .await;
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert_eq!(api.get("/v1/tables/peopleTable").await.body["rows"], 5);
}

/// Each table fault breaks the contract the way its catalogue line says.
#[tokio::test]
async fn table_faults_break_what_they_name() {
    use std::collections::BTreeSet;

    use bpharness::server::ServerConfig;
    use bpharness::server::fault::Fault;

    let faulty = |fault: Fault| ServerConfig {
        faults: BTreeSet::from([fault]),
        ..ServerConfig::default()
    };
    let api = Api::start_with(faulty(Fault::TableFilterNeIgnored)).await;
    people(&api, "peopleTable").await;
    assert_eq!(
        found(&api, "peopleTable", json!({ "city": { "$ne": "London" } }))
            .await
            .len(),
        5
    );

    let api = Api::start_with(faulty(Fault::TableOffsetIgnored)).await;
    people(&api, "peopleTable").await;
    let r = find(&api, "peopleTable", json!({ "limit": 2, "offset": 2 })).await;
    assert_eq!(ids(&r), [1, 2]);

    let api = Api::start_with(faulty(Fault::TableUpsertDuplicates)).await;
    people(&api, "peopleTable").await;
    let r = api
        .post(
            "/v1/tables/peopleTable/rows/upsert",
            json!({ "rows": [{ "id": 1, "name": "Ada" }] }),
        )
        .await;
    assert_schema("responses/upsertTableRows.json", &r.body);
    assert_eq!(
        (r.body["inserted"][0]["id"].clone(), r.body["updated"].clone()),
        (json!(6), json!([]))
    );

    let api = Api::start_with(faulty(Fault::TableRenameLosesData)).await;
    people(&api, "peopleTable").await;
    let r = api
        .put(
            "/v1/tables/peopleTable/column",
            json!({ "name": "city", "newName": "town" }),
        )
        .await;
    assert_schema("responses/renameTableColumn.json", &r.body);
    assert!(r.body["table"]["schema"]["properties"]["town"].is_object());
    assert!(
        api.get("/v1/tables/peopleTable/row?id=1").await.body["row"]
            .get("town")
            .is_none()
    );

    let api = Api::start_with(faulty(Fault::TableDuplicateNameAllowed)).await;
    create_table(&api, "twinTable", json!({ "a": { "type": "string" } })).await;
    let r = api
        .post(
            "/v1/tables",
            json!({ "name": "twinTable", "schema": { "a": { "type": "string" } } }),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.body["table"]["name"].clone()),
        (200, json!("twinTable"))
    );
}
