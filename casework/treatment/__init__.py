"""Treatment episodes: who is in structured drug and alcohol treatment, with which agency, for
which substances, and how each episode ended (issue 8). The partnership's figures (numbers in
treatment, new presentations, deaths in treatment, unmet need) are counted from these rows."""
