"""The measured corpus: statements written for dualpath, each labelled by measuring it on a real server.

``cases`` holds the schemas and the statements, ``measure_pg`` and ``measure_mariadb`` run one case
on a freshly reset database and observe what it did, ``hazard`` turns observations into a label,
and ``verdict`` reads lint's findings as hazard, safe or "depends". tests/integration/
test_catalogue_honesty.py asserts that lint agrees with every label; bench/lint.py reports recall
and false alarms next to squawk's.
"""
