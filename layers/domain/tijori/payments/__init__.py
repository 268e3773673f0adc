"""Collections: PG checkout payments (seed 004), their verified results (seed 002's Transaction
Status API) and refunds (seed 002's Refund and Refund Status APIs), on the lifecycle engine."""
