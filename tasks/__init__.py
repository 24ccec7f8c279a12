"""The logic of thidua: plain functions over plain data, called by the Prefect flows."""
