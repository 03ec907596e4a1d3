"""duckfed as a PySpark data source, for tables that outgrow one machine (the optional extra `duckfed[spark]`).

```python
from federation.spark import register
register(spark)
df = spark.read.format("duckfed").option("url", "template:///?…").option("table", "contacts").load()
df.write.format("duckfed").option("url", "financialforce:///?…").option("table", "c2g__codaGeneralLedgerAccount__c")
    .option("key", "c2g__ReportingCode__c").mode("append").save()
```

Reads split the table into disjoint partitions read in parallel by executors (`federation.spark.partitions`);
executors call the API with an access token minted on the driver and never sign in themselves
(`federation.handoff`); writes upsert by an external key, so a task Spark re-runs writes no duplicate. Only this
package imports pyspark: `import federation` never does.
"""

from __future__ import annotations

from pyspark.sql import SparkSession

from federation.spark.source import DuckfedDataSource

__all__ = ["DuckfedDataSource", "register"]

#: Spark hands a Python data source its filters only with this set (and refuses one that takes filters without).
FILTER_PUSHDOWN = "spark.sql.python.filterPushdown.enabled"


def register(spark: SparkSession) -> None:
    """Make `format("duckfed")` available in `spark`, with filter pushdown to Python data sources turned on."""
    spark.conf.set(FILTER_PUSHDOWN, "true")
    spark.dataSource.register(DuckfedDataSource)
