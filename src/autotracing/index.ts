// Imports every autotracing detector so each registers itself with the framework.
import "./cpuidle";
import "./cpusys";
import "./dload";
import "./iotracing";
import "./memburst";
