from django.urls import path

from votes import apis

urlpatterns = [
    path("polls/", apis.PollListCreateApi.as_view(), name="polls"),
    path("polls/<int:poll_id>/", apis.PollDetailApi.as_view(), name="poll-detail"),
    path(
        "polls/<int:poll_id>/candidates/",
        apis.CandidateCreateApi.as_view(),
        name="poll-candidates",
    ),
    path("polls/<int:poll_id>/votes/", apis.VoteCastApi.as_view(), name="poll-votes"),
    path("polls/<int:poll_id>/results/", apis.PollResultsApi.as_view(), name="poll-results"),
    path(
        "polls/<int:poll_id>/candidates/<int:candidate_id>/voters/",
        apis.CandidateVotersApi.as_view(),
        name="poll-candidate-voters",
    ),
]
