"""Reimbursement: home charging for work, paid back by the employer (issue 16).

Pure logic. ``errors.py`` is the one error the forms show (a code each);
``iban.py``, ``bill_file.py`` and ``contact.py`` check what onboarding asks
for; ``rules.py`` says which sessions are business and when a month is
locked; ``tariff.py`` costs a session under the tariff in force;
``statement.py`` makes a month's statement; ``ocpi_cdr.py`` turns a session
into an OCPI 2.2.1 CDR; ``outbox.py`` decides how the CDRs go out.
"""
