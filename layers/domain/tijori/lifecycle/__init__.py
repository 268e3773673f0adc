"""The lifecycle engine every kind of money movement shares (payouts, payments, refunds, ...):
the error-catalogue shape (`outcomes`), the status tables (`states`), the conditional store with
its history and due index (`store`), and the scheduled run over every kind (`scheduled`)."""
