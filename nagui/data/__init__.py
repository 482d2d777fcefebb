"""NB201 tables: locating, checking, downloading, and the Benchmark table."""
from .benchmark import (COLUMN_DOCS, DATASETS, DEVICES, METRIC_COLUMNS, NUM_CELLS, Benchmark,
                        QueryCounter, column)
from .sources import DataError, check_data_dir, fetch, resolve_data_dir

__all__ = ["COLUMN_DOCS", "DATASETS", "DEVICES", "METRIC_COLUMNS", "NUM_CELLS", "Benchmark", "DataError",
           "QueryCounter", "check_data_dir", "column", "fetch", "resolve_data_dir"]
