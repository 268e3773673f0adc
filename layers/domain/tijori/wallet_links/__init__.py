"""Auto-debit wallet links (seed 002): a customer's Paytm wallet linked by OTP, the token that
links it kept encrypted, and what a merchant does with a link (balance, add money, charges)."""
