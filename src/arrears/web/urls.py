from django.urls import path

from arrears.web import concessions, outbox, queueview, search, team, today, views, workbench

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("loans/", views.loans_by_bucket, name="loans"),
    # `path`: a reference stored with a "/" (before the import restricted the alphabet) is
    # still reachable, and every page linking to it can reverse its URL
    path("loans/<path:ref>/", views.loan_explain, name="explain"),
    path("queue/", workbench.queue, name="queue"),
    path("cases/<int:case_id>/", workbench.case_detail, name="case"),
    path("approvals/", concessions.approvals, name="approvals"),
    path("messages/", outbox.outbox, name="outbox"),
    path("team/", team.team_list, name="team"),
    path("team/dashboard/", team.team_dashboard, name="team-dashboard"),
    path("search/", search.search, name="search"),
    path("today/", today.today, name="today"),
    path("queue/views/", queueview.save_view, name="queue-view-save"),
    path("queue/views/<int:view_id>/delete/", queueview.delete_view, name="queue-view-delete"),
]
