"""The .dig linter: findings, rules (Digdag's own and Treasure Data's), output formats."""
